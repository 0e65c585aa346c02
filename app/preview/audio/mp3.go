package audio

import (
	"context"
	"fmt"

	"atelier/app/preview/mp3"
)

func decodeMP3(ctx context.Context, data []byte, opt Options, sink Sink) (Info, error) {
	info := Info{Format: "mp3"}
	st, err := mp3.Scan(data)
	if err != nil {
		return info, err
	}
	info.Codec = fmt.Sprintf("MPEG-%s Layer III", st.Version)
	info.SampleRate, info.Channels = st.SampleRate, st.Channels
	info.Bitrate = st.Bitrate()
	info.VBR = st.VBR()
	if st.Xing != nil {
		info.Encoder = st.Xing.Encoder
	}
	info.Warnings = append(info.Warnings, st.Warnings...)
	opt.format(info)
	out := make([]int32, 0, 1152*2*8)
	res, err := mp3.Decode(ctx, data, st, mp3.Options{Workers: opt.Workers, MaxSamples: opt.maxSamples(st.SampleRate)}, func(pcm []int16) error {
		for len(pcm) > 0 {
			n := min(len(pcm), cap(out))
			out = out[:n]
			for i, v := range pcm[:n] {
				out[i] = int32(v) << 16
			}
			if err := sink(out, st.Channels); err != nil {
				return err
			}
			pcm = pcm[n:]
		}
		return nil
	})
	info.Samples = res.Samples
	info.Partial = res.Partial
	info.Warnings = append(info.Warnings, res.Warnings...)
	if res.Partial {
		info.Warnings = append(info.Warnings, fmt.Sprintf("only the first %s of %s are analysed", fmtSecs(float64(res.Samples)/float64(st.SampleRate)), fmtSecs(st.Duration().Seconds())))
	}
	return info, err
}
