// Package api serves the engine's services on a local unix socket (mode 0600)
// so the CLI can talk to a running engine, the way Tailscale's LocalAPI and
// Docker's socket work. Every exported method of a bound service is a route:
// POST /v1/call/Service.Method with a JSON array of arguments.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"atelier/app/apierr"
)

var (
	errorType   = reflect.TypeOf((*error)(nil)).Elem()
	contextType = reflect.TypeOf((*context.Context)(nil)).Elem()
)

// Registry maps "Service.Method" to callable methods of bound services, the
// same method sets Wails binds for the desktop frontend.
type Registry struct {
	methods map[string]reflect.Value
}

// NewRegistry indexes the exported methods of each service, by service name.
func NewRegistry(services map[string]any) *Registry {
	r := &Registry{methods: map[string]reflect.Value{}}
	for name, svc := range services {
		v := reflect.ValueOf(svc)
		t := v.Type()
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			r.methods[name+"."+m.Name] = v.Method(i)
		}
	}
	return r
}

// Methods lists the routes, sorted.
func (r *Registry) Methods() []string {
	out := make([]string, 0, len(r.methods))
	for k := range r.methods {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrNoMethod is returned for an unknown "Service.Method".
var ErrNoMethod = apierr.Wrap(apierr.NotFound, errors.New("no such method"))

// Call invokes method with JSON-encoded arguments and returns its result (nil
// for methods returning only an error). A leading context.Context parameter,
// if the method has one, receives ctx.
func (r *Registry) Call(ctx context.Context, method string, args []json.RawMessage) (any, error) {
	m, ok := r.methods[method]
	if !ok {
		return nil, fmt.Errorf("%w: %s (known: %s)", ErrNoMethod, method, strings.Join(r.Methods(), ", "))
	}
	t := m.Type()
	in := make([]reflect.Value, 0, t.NumIn())
	first := 0
	if t.NumIn() > 0 && t.In(0) == contextType {
		in = append(in, reflect.ValueOf(ctx))
		first = 1
	}
	want := t.NumIn() - first
	if len(args) != want {
		return nil, apierr.Errorf(apierr.InvalidInput, "%s takes %d arguments, got %d", method, want, len(args))
	}
	for i, raw := range args {
		p := reflect.New(t.In(first + i))
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return nil, apierr.Errorf(apierr.InvalidInput, "%s argument %d: %w", method, i+1, err)
		}
		in = append(in, p.Elem())
	}
	out := m.Call(in)
	var result any
	for _, o := range out {
		if o.Type() == errorType {
			if !o.IsNil() {
				return nil, o.Interface().(error)
			}
			continue
		}
		result = o.Interface()
	}
	return result, nil
}
