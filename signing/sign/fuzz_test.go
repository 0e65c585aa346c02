package sign

import "testing"

const seedEnv = `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"MEUCIQCROvdPs59QrfDq6jr5oD0Gb+lzRJOa+qcrTr1Jzuw5PQIgYwM/cxGFNvNfRugpYuUWBzKL5Yj6e60kIaVfKWeqdi4="}]}`

func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(seedEnv))
	f.Add([]byte(`{"payloadType":"a","payloadType":"b"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseEnvelope(b, "fuzz"); err == nil {
			e.DecodePayload()
		}
	})
}

func FuzzBundle(f *testing.F) {
	f.Add([]byte(`{"mediaType":"` + BundleMediaType + `","verificationMaterial":{"publicKey":{"hint":"abc"}},"dsseEnvelope":` + seedEnv + `}`))
	f.Add([]byte(`{"mediaType":"` + BundleMediaType + `","verificationMaterial":{"publicKey":{"hint":"abc"},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},"signature":"MEUCIQCROvdPs59QrfDq6jr5oD0Gb+lzRJOa+qcrTr1Jzuw5PQIgYwM/cxGFNvNfRugpYuUWBzKL5Yj6e60kIaVfKWeqdi4="}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bd, err := ParseBundle(b, "fuzz"); err == nil && bd.MessageSignature != nil {
			if _, _, err := bd.MessageSignature.Decode("fuzz"); err != nil {
				t.Fatalf("parsed bundle's message signature does not decode: %v", err)
			}
		}
	})
}

func FuzzStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"blob","digest":{"sha256":"00"}}],"predicate":{"buildDefinition":{"externalParameters":{"module":"@a/b"}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, _, err := ParseStatement(b, "fuzz"); err == nil {
			st.CoversDigest([32]byte{})
		}
	})
}

func FuzzSignature(f *testing.F) {
	f.Add([]byte("MEUCIQCROvdPs59QrfDq6jr5oD0Gb+lzRJOa+qcrTr1Jzuw5PQIgYwM/cxGFNvNfRugpYuUWBzKL5Yj6e60kIaVfKWeqdi4="))
	f.Fuzz(func(t *testing.T, b []byte) { ParseSignature(b, "fuzz") })
}
