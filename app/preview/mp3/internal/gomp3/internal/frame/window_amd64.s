//go:build !purego

#include "textflag.h"

// func window17(h *[17][32]float32, pos int, wl, wh *[17][16]float32, y *[33]float32)
// y[j] = lo of row j, y[32-j] = hi of row j (hi stored first: y[16] is lo).
TEXT ·window17(SB), NOSPLIT, $0-40
	MOVQ h+0(FP), SI
	MOVQ pos+8(FP), AX
	LEAQ (SI)(AX*4), SI
	MOVQ wl+16(FP), DI
	MOVQ wh+24(FP), DX
	MOVQ y+32(FP), R8
	LEAQ 128(R8), R9
	MOVQ $17, CX

loop:
	MOVUPS 0(SI), X0
	MOVUPS 16(SI), X1
	MOVUPS 32(SI), X2
	MOVUPS 48(SI), X3

	MOVUPS 0(DI), X4
	MULPS  X0, X4
	MOVUPS 16(DI), X5
	MULPS  X1, X5
	ADDPS  X5, X4
	MOVUPS 32(DI), X5
	MULPS  X2, X5
	ADDPS  X5, X4
	MOVUPS 48(DI), X5
	MULPS  X3, X5
	ADDPS  X5, X4

	MOVUPS 0(DX), X6
	MULPS  X0, X6
	MOVUPS 16(DX), X7
	MULPS  X1, X7
	ADDPS  X7, X6
	MOVUPS 32(DX), X7
	MULPS  X2, X7
	ADDPS  X7, X6
	MOVUPS 48(DX), X7
	MULPS  X3, X7
	ADDPS  X7, X6

	// Horizontal sums of the four lanes.
	MOVAPS  X6, X7
	MOVHLPS X6, X7
	ADDPS   X7, X6
	MOVAPS  X6, X7
	SHUFPS  $0x55, X7, X7
	ADDSS   X7, X6
	MOVSS   X6, (R9)

	MOVAPS  X4, X5
	MOVHLPS X4, X5
	ADDPS   X5, X4
	MOVAPS  X4, X5
	SHUFPS  $0x55, X5, X5
	ADDSS   X5, X4
	MOVSS   X4, (R8)

	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $4, R8
	SUBQ $4, R9
	DECQ CX
	JNZ  loop
	RET

// func round16(y *[33]float32, o *[32]int16)
// o[i] = y[i] clamped to [-32768, 32767], rounded to nearest (even on ties).
TEXT ·round16(SB), NOSPLIT, $0-16
	MOVQ y+0(FP), SI
	MOVQ o+8(FP), DI
	MOVL $0xc7000000, AX // -32768
	MOVL AX, X6
	SHUFPS $0, X6, X6
	MOVL $0x46fffe00, AX // 32767
	MOVL AX, X7
	SHUFPS $0, X7, X7
	MOVQ $4, CX

rloop:
	MOVUPS 0(SI), X0
	MOVUPS 16(SI), X1
	MAXPS X6, X0
	MINPS X7, X0
	MAXPS X6, X1
	MINPS X7, X1
	CVTPS2PL X0, X0
	CVTPS2PL X1, X1
	PACKSSLW X1, X0
	MOVOU X0, 0(DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  rloop
	RET
