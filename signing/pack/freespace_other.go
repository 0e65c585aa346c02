//go:build !linux

package pack

func freeSpace(string) int64 { return -1 }
