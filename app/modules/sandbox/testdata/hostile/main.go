//go:build wasip1

// Command hostile is a module that tries to break out of the sandbox; the
// attack is its last argument. It prints "LEAK ..." when an attack worked and
// "REFUSED ..." when it was refused; a stopped attack prints nothing more.
package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"
)

//go:wasmimport wasi_snapshot_preview1 path_open
func pathOpen(fd int32, dirflags int32, path unsafe.Pointer, pathLen uint32, oflags int32, rightsBase uint64, rightsInheriting uint64, fdflags int32, resultFd unsafe.Pointer) uint32

// rawOpen calls path_open directly, without the Go runtime's path cleaning.
func rawOpen(dir, name string, create bool) (int32, uint32) {
	d, err := os.Open(dir)
	if err != nil {
		return -1, 9999
	}
	defer d.Close()
	b := []byte(name)
	var fd int32
	var oflags int32
	if create {
		oflags = 1 // O_CREAT
	}
	errno := pathOpen(int32(d.Fd()), 1, unsafe.Pointer(&b[0]), uint32(len(b)), oflags, ^uint64(0), ^uint64(0), 0, unsafe.Pointer(&fd))
	return fd, errno
}

func try(what string, err error) {
	if err != nil {
		fmt.Printf("REFUSED %s: %v\n", what, err)
	} else {
		fmt.Printf("LEAK %s\n", what)
	}
}

func tryRead(p string) {
	b, err := os.ReadFile(p)
	if err == nil {
		fmt.Printf("LEAK read %s: %q\n", p, b)
		return
	}
	fmt.Printf("REFUSED read %s: %v\n", p, err)
}

func tryRaw(dir, name string, create bool) {
	_, errno := rawOpen(dir, name, create)
	if errno == 0 {
		fmt.Printf("LEAK raw open %s in %s\n", name, dir)
	} else {
		fmt.Printf("REFUSED raw open %s in %s: errno %d\n", name, dir, errno)
	}
}

func main() {
	attack := os.Args[len(os.Args)-1]
	attack, arg, _ := strings.Cut(attack, "=")
	switch attack {
	case "ok":
		var names []string
		filepath.WalkDir("/project", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, strings.TrimPrefix(p, "/project/"))
			}
			return nil
		})
		b, err := os.ReadFile("/project/song.txt")
		if err != nil {
			fmt.Println("read song.txt:", err)
			os.Exit(1)
		}
		if err := os.MkdirAll("/out/sub", 0o755); err != nil {
			fmt.Println("mkdir:", err)
			os.Exit(1)
		}
		if err := os.WriteFile("/out/sub/report.txt", append([]byte("saw "), b...), 0o644); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
		fmt.Printf("files: %s\n", strings.Join(names, ","))
		fmt.Fprintln(os.Stderr, "a line on stderr")
	case "list":
		filepath.WalkDir("/project", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fmt.Println("FILE", strings.TrimPrefix(p, "/project/"))
			}
			return nil
		})
		tryRead("/project/secret.txt")
		tryRead("/project/sub/b.txt")
	case "passwd":
		tryRead("/etc/passwd")
		_, err := os.ReadDir("/")
		try("list /", err)
	case "dotdot":
		tryRead("/project/../outside.txt")
		tryRead("../outside.txt")
		tryRaw("/project", "../outside.txt", false)
		tryRaw("/project", "sub/../../outside.txt", false)
	case "absolute":
		tryRaw("/project", "/etc/passwd", false)
		tryRaw("/project", "/outside.txt", false)
	case "symlink":
		tryRead("/project/link-file")
		tryRead("/project/link-dir/outside.txt")
		_, err := os.ReadDir("/project/link-dir")
		try("list /project/link-dir", err)
		if b, err := os.ReadFile("/project/inside-link"); err == nil { // a link that stays inside: allowed
			fmt.Printf("ALLOWED read /project/inside-link: %q\n", b)
		}
	case "write":
		try("write /project/new.txt", os.WriteFile("/project/new.txt", []byte("x"), 0o644))
		try("remove /project/song.txt", os.Remove("/project/song.txt"))
		try("write /out/../escape.txt", os.WriteFile("/out/../escape.txt", []byte("x"), 0o644))
		try("write /tmp/escape.txt", os.WriteFile("/tmp/escape.txt", []byte("x"), 0o644))
		tryRaw("/out", "../escape.txt", true)
		try("symlink /out/l", os.Symlink("/", "/out/l"))
		try("symlink /out/l2", os.Symlink("../escape.txt", "/out/l2"))
		try("link /out/hard", os.Link("/out/x", "/out/hard"))
		try("rename into project", os.Rename("/out/x", "/project/x"))
		if err := os.WriteFile("/out/fine.txt", []byte("fine"), 0o644); err != nil {
			fmt.Println("write /out/fine.txt:", err)
			os.Exit(1)
		}
	case "socket":
		c, err := net.DialTimeout("tcp", arg, time.Second)
		if err == nil {
			c.Close()
		}
		try("dial "+arg, err)
		// Go's wasip1 net package fakes listeners inside the module: it
		// may "listen", but nothing outside can reach it.
		if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			fmt.Println("IN-MODULE listen", l.Addr())
			l.Close()
		}
	case "loop":
		n := 0
		for {
			n++
		}
	case "sleep":
		time.Sleep(time.Hour)
		fmt.Println("LEAK slept an hour")
	case "alloc":
		var keep [][]byte
		for {
			b := make([]byte, 16<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = byte(i)
			}
			keep = append(keep, b)
		}
	case "flood":
		f, err := os.Create("/out/big.bin")
		if err != nil {
			fmt.Println("create:", err)
			os.Exit(1)
		}
		buf := make([]byte, 1<<20)
		for {
			f.Write(buf) // ignores errors: the sandbox must stop it
		}
	case "files":
		for i := 0; ; i++ {
			os.WriteFile(fmt.Sprintf("/out/f%06d", i), nil, 0o644)
		}
	case "spew":
		line := strings.Repeat("x", 1<<16)
		for {
			fmt.Println(line)
		}
	case "noop":
	case "readall":
		var total int64
		buf := make([]byte, 64<<10)
		filepath.WalkDir("/project", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer f.Close()
			for {
				n, err := f.Read(buf)
				total += int64(n)
				if err != nil {
					break
				}
			}
			return nil
		})
		fmt.Println(total)
	case "env":
		fmt.Println(strings.Join(os.Environ(), "\n"))
	default:
		fmt.Println("unknown attack", attack)
		os.Exit(2)
	}
}
