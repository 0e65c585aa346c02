package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"atelier/netclient"
)

// HostModule is the import module of Atelier's host functions: measure (see
// measure.go) for modules granted project:read, and http_get for modules
// granted net:HOST permissions:
//
//	//go:wasmimport atelier http_get
//	func httpGet(url *byte, urlLen uint32, buf *byte, bufCap uint32, result *[2]uint32) uint32
//
// It fetches url (https, or http to localhost) if its host is one the module
// was granted, copies at most bufCap bytes of the body into buf and stores
// the HTTP status and the body length copied in result. It returns 0 on
// success, NetRefused when the host is not granted, NetFailed when the
// request failed and NetBadArgs on bad pointers. A module importing it
// without a net permission does not start.
const HostModule = "atelier"

// http_get results.
const (
	NetOK      = 0
	NetRefused = 1
	NetFailed  = 2
	NetBadArgs = 3
)

// MaxFetch caps one response body copied into a module.
const MaxFetch = 16 << 20

type netKey struct{}

// netState is a run's network grant and log, carried in the call's context.
type netState struct {
	hosts  map[string]bool
	client *http.Client
	mu     sync.Mutex
	log    []string
	budget int64 // bytes of response bodies still allowed
}

func (n *netState) note(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.log) < 200 {
		n.log = append(n.log, fmt.Sprintf(format, args...))
	}
}

// allowed checks a URL against the grant: https to a granted host, or http
// to a granted localhost.
func (n *netState) allowed(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	if !n.hosts[host] {
		return fmt.Errorf("host %s is not granted (no net:%s permission)", host, host)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && host == "localhost") {
		return fmt.Errorf("scheme %s refused: use https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("credentials in the URL refused")
	}
	return nil
}

func newNetState(hosts []string, budget int64) *netState {
	n := &netState{hosts: map[string]bool{}, budget: budget}
	for _, h := range hosts {
		n.hosts[h] = true
	}
	tr := netclient.Transport(netclient.Defaults)
	tr.Proxy = nil // the grant names the destination; no proxy in between
	n.client = &http.Client{
		Transport: tr,
		Timeout:   time.Minute,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if err := n.allowed(req.URL); err != nil {
				n.note("refused redirect to %s: %v", req.URL.Redacted(), err)
				return err
			}
			return nil
		},
	}
	return n
}

// instantiateHost adds HostModule to the runtime.
func instantiateHost(ctx context.Context, rt wazero.Runtime) error {
	_, err := rt.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(httpGet), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		WithParameterNames("url", "url_len", "buf", "buf_cap", "result").
		Export("http_get").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(measureHost), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		WithParameterNames("path", "path_len", "buf", "buf_cap", "result_len").
		Export("measure").
		Instantiate(ctx)
	return err
}

func httpGet(ctx context.Context, mod api.Module, stack []uint64) {
	ret := func(code uint32) { stack[0] = uint64(code) }
	n, _ := ctx.Value(netKey{}).(*netState)
	mem := mod.Memory()
	urlPtr, urlLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	bufPtr, bufCap := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	resPtr := api.DecodeU32(stack[4])
	if n == nil {
		ret(NetRefused)
		return
	}
	raw, ok := mem.Read(urlPtr, urlLen)
	if !ok || urlLen > 8192 {
		ret(NetBadArgs)
		return
	}
	if _, ok := mem.Read(bufPtr, bufCap); !ok {
		ret(NetBadArgs)
		return
	}
	if _, ok := mem.Read(resPtr, 8); !ok {
		ret(NetBadArgs)
		return
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		n.note("refused GET %q: not a URL", raw)
		ret(NetBadArgs)
		return
	}
	if err := n.allowed(u); err != nil {
		n.note("refused GET %s: %v", u.Redacted(), err)
		ret(NetRefused)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		ret(NetBadArgs)
		return
	}
	req.Header.Set("User-Agent", "Atelier-module")
	resp, err := n.client.Do(req)
	if err != nil {
		n.note("GET %s failed: %v", u.Redacted(), err)
		ret(NetFailed)
		return
	}
	defer resp.Body.Close()
	limit := min(int64(bufCap), MaxFetch)
	n.mu.Lock()
	limit = min(limit, n.budget)
	n.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		n.note("GET %s: reading the body failed: %v", u.Redacted(), err)
		ret(NetFailed)
		return
	}
	n.mu.Lock()
	n.budget -= int64(len(body))
	n.mu.Unlock()
	mem.Write(bufPtr, body)
	mem.WriteUint32Le(resPtr, uint32(resp.StatusCode))
	mem.WriteUint32Le(resPtr+4, uint32(len(body)))
	n.note("GET %s: %d, %d bytes", u.Redacted(), resp.StatusCode, len(body))
	ret(NetOK)
}
