package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"atelier/app/apierr"
)

// ErrNoEngine means no engine answers on the socket.
var ErrNoEngine = errors.New("no running engine")

// Client calls a running engine over its socket.
type Client struct {
	socket string
	hc     *http.Client
}

// Dial returns a client for the engine at socket, or ErrNoEngine when none answers.
func Dial(socket string) (*Client, error) {
	c, err := net.DialTimeout("unix", socket, 500*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("%w at %s", ErrNoEngine, socket)
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{socket: socket, hc: &http.Client{Transport: tr}}, nil
}

// Call invokes "Service.Method" with args and decodes the result into out (may be nil).
func (c *Client) Call(ctx context.Context, method string, out any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(args)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://engine/v1/call/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("call %s on the running engine: %w", method, err)
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
		Kind   string          `json:"kind"`
		UI     string          `json:"ui"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("call %s: bad answer from engine: %w", method, err)
	}
	if env.Error != "" {
		return ReplyError(env.Error, env.Kind, env.UI)
	}
	if out != nil && len(env.Result) > 0 {
		return json.Unmarshal(env.Result, out)
	}
	return nil
}

// ReplyError turns an error reply back into an error of the same kind, so a
// call through the socket and one in-process answer the same errors.Is.
func ReplyError(msg, kind, ui string) error {
	return &apierr.Error{Kind: apierr.Parse(kind), Err: errors.New(msg), UI: ui}
}

// Events streams engine events until ctx ends.
func (c *Client) Events(ctx context.Context, fn func(Event)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine/v1/events", nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var ev Event
		if json.Unmarshal([]byte(line[6:]), &ev) == nil {
			fn(ev)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
