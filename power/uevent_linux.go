package power

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// Changes tells of power supply changes as the kernel announces them (its
// uevents on a netlink socket, which any user may read; no udev or UPower
// needed), so a plug or unplug is seen at once instead of at the next poll.
// The channel is closed when ctx ends. Where the socket cannot be opened (a
// sandbox without netlink), the error says so and the caller polls.
func Changes(ctx context.Context) (<-chan struct{}, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("listen for power supply changes (kernel uevents): %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: 1}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen for power supply changes (kernel uevents): %w", err)
	}
	// A non-blocking descriptor goes through Go's poller: Close ends a Read.
	f := os.NewFile(uintptr(fd), "kernel uevents")
	out := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		defer close(out)
		buf := make([]byte, 8192)
		for {
			n, err := f.Read(buf)
			if err != nil {
				if ctx.Err() == nil {
					// ENOBUFS: the kernel dropped events; tell the reader to look.
					if err2, ok := err.(*os.PathError); ok && err2.Err == syscall.ENOBUFS {
						notify(out)
						continue
					}
				}
				return
			}
			if IsSupplyEvent(buf[:n]) {
				notify(out)
			}
		}
	}()
	return out, nil
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
