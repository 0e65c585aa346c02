package thumb

// ycc writes one opaque RGBA pixel: color.YCbCrToRGB's arithmetic.
func ycc(p []byte, y, cb, cr uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	bl := yy1 + 116130*cb1
	if uint32(bl)&0xff000000 == 0 {
		bl >>= 16
	} else {
		bl = ^(bl >> 31)
	}
	_ = p[3]
	p[0], p[1], p[2], p[3] = uint8(r), uint8(g), uint8(bl), 0xff
}
