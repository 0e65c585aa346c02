// Package clientgen writes app/client: one typed client per bound service,
// method for method, over an api.Caller. It reads the method sets from the
// engine's registry (reflection) and the parameter names and doc comments
// from the services' source, so the client says what the service says.
package clientgen

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

var (
	errorType   = reflect.TypeOf((*error)(nil)).Elem()
	contextType = reflect.TypeOf((*context.Context)(nil)).Elem()
)

// Skip are services the typed client leaves out: Window is the desktop's
// own (a second launch focuses the first) and is not for the CLI.
var Skip = map[string]bool{"Window": true}

type srcMethod struct {
	params []string
	doc    string
}

// readSource maps "pkgpath.Recv.Method" to its parameter names and doc.
func readSource(moduleRoot string, pkgPaths map[string]bool) (map[string]srcMethod, error) {
	out := map[string]srcMethod{}
	for pp := range pkgPaths {
		dir := filepath.Join(moduleRoot, strings.TrimPrefix(strings.TrimPrefix(pp, "atelier"), "/"))
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		fs := token.NewFileSet()
		for _, en := range ents {
			n := en.Name()
			if en.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fs, filepath.Join(dir, n), nil, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
					continue
				}
				rt := fd.Recv.List[0].Type
				if st, ok := rt.(*ast.StarExpr); ok {
					rt = st.X
				}
				id, ok := rt.(*ast.Ident)
				if !ok {
					continue
				}
				var names []string
				for _, p := range fd.Type.Params.List {
					for _, nm := range p.Names {
						names = append(names, nm.Name)
					}
					if len(p.Names) == 0 {
						names = append(names, "")
					}
				}
				out[pp+"."+id.Name+"."+fd.Name.Name] = srcMethod{params: names, doc: fd.Doc.Text()}
			}
		}
	}
	return out, nil
}

type gen struct {
	imports map[string]string // path -> name
}

func (g *gen) typ(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name()
		}
		s := t.String()
		name, _, _ := strings.Cut(s, ".")
		g.imports[t.PkgPath()] = name
		return s
	}
	switch t.Kind() {
	case reflect.Slice:
		return "[]" + g.typ(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), g.typ(t.Elem()))
	case reflect.Pointer:
		return "*" + g.typ(t.Elem())
	case reflect.Map:
		return "map[" + g.typ(t.Key()) + "]" + g.typ(t.Elem())
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any"
		}
	}
	panic("clientgen: cannot name type " + t.String())
}

// Generate returns the source of app/client's generated file for services
// (the engine's Services map); moduleRoot is the folder of go.mod.
func Generate(services map[string]any, moduleRoot string) ([]byte, error) {
	names := make([]string, 0, len(services))
	pkgs := map[string]bool{}
	for n, s := range services {
		if Skip[n] {
			continue
		}
		names = append(names, n)
		t := reflect.TypeOf(s)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		pkgs[t.PkgPath()] = true
	}
	sort.Strings(names)
	src, err := readSource(moduleRoot, pkgs)
	if err != nil {
		return nil, err
	}
	g := &gen{imports: map[string]string{"context": "context", "atelier/app/api": "api"}}
	var body bytes.Buffer
	fmt.Fprintf(&body, "// Client is one typed client per bound service, over one api.Caller.\ntype Client struct {\n")
	for _, n := range names {
		fmt.Fprintf(&body, "\t%s %sClient\n", n, n)
	}
	fmt.Fprintf(&body, "}\n\n// New returns the typed clients over c (an api.Client or an api.Local).\nfunc New(c api.Caller) *Client {\n\treturn &Client{\n")
	for _, n := range names {
		fmt.Fprintf(&body, "\t\t%s: %sClient{c},\n", n, n)
	}
	fmt.Fprintf(&body, "\t}\n}\n")
	for _, n := range names {
		v := reflect.ValueOf(services[n])
		t := v.Type()
		recv := t
		if recv.Kind() == reflect.Pointer {
			recv = recv.Elem()
		}
		fmt.Fprintf(&body, "\n// %sClient calls the %q service.\ntype %sClient struct{ c api.Caller }\n", n, n, n)
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			mt := m.Type // receiver first
			sm := src[recv.PkgPath()+"."+recv.Name()+"."+m.Name]
			var params, args []string
			first := 1
			if mt.NumIn() > 1 && mt.In(1) == contextType {
				first = 2
			}
			for j := first; j < mt.NumIn(); j++ {
				pn := fmt.Sprintf("a%d", j-first)
				if k := j - 1; k < len(sm.params) && sm.params[k] != "" && sm.params[k] != "_" && sm.params[k] != "ctx" && sm.params[k] != "c" {
					pn = sm.params[k]
				}
				params = append(params, pn+" "+g.typ(mt.In(j)))
				args = append(args, pn)
			}
			var result reflect.Type
			for j := 0; j < mt.NumOut(); j++ {
				if mt.Out(j) != errorType {
					result = mt.Out(j)
				}
			}
			if sm.doc != "" {
				for _, l := range strings.Split(strings.TrimRight(sm.doc, "\n"), "\n") {
					fmt.Fprintf(&body, "\n// %s", l)
				}
				body.WriteString("\n")
			} else {
				body.WriteString("\n")
			}
			call := fmt.Sprintf("x.c.Call(ctx, %q, %%s%s)", n+"."+m.Name, strings.Join(append([]string{""}, args...), ", "))
			ps := strings.Join(append([]string{"ctx context.Context"}, params...), ", ")
			if result == nil {
				fmt.Fprintf(&body, "func (x %sClient) %s(%s) error {\n\treturn %s\n}\n", n, m.Name, ps, fmt.Sprintf(call, "nil"))
				continue
			}
			rt := g.typ(result)
			fmt.Fprintf(&body, "func (x %sClient) %s(%s) (%s, error) {\n\tvar out %s\n\terr := %s\n\treturn out, err\n}\n", n, m.Name, ps, rt, rt, fmt.Sprintf(call, "&out"))
		}
	}
	var out bytes.Buffer
	out.WriteString("// Code generated by go run ./app/client/gen; DO NOT EDIT.\n\npackage client\n\nimport (\n")
	paths := make([]string, 0, len(g.imports))
	for p := range g.imports {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		si, sj := isStd(paths[i]), isStd(paths[j])
		if si != sj {
			return si // the standard library first
		}
		return paths[i] < paths[j]
	})
	for i, p := range paths {
		if i > 0 && isStd(paths[i-1]) && !isStd(p) {
			out.WriteString("\n")
		}
		base := p[strings.LastIndex(p, "/")+1:]
		if base != g.imports[p] {
			fmt.Fprintf(&out, "\t%s %q\n", g.imports[p], p)
		} else {
			fmt.Fprintf(&out, "\t%q\n", p)
		}
	}
	out.WriteString(")\n\n")
	out.Write(body.Bytes())
	return format.Source(out.Bytes())
}

// isStd reports whether an import path is the standard library's.
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && first != "atelier"
}
