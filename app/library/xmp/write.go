package xmp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// template is a new sidecar; %s is where the properties go.
const template = `<?xpacket begin="` + "\uFEFF" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Atelier">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/">%s
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
`

// New is a new sidecar holding m.
func New(m Marks) []byte {
	return []byte(fmt.Sprintf(template, props(m.Normalize(), "rdf", "xmp", "dc", "", "", "", "\n   ")))
}

// props writes m's properties as elements; xmpDecl and dcDecl are namespace
// declarations to put on the elements ("" when the prefixes are bound).
func props(m Marks, rdf, xp, dc, rdfDecl, xmpDecl, dcDecl, indent string) string {
	var b strings.Builder
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	if m.Rating != 0 {
		fmt.Fprintf(&b, "%s<%s:Rating%s>%d</%s:Rating>", indent, xp, xmpDecl, m.Rating, xp)
	}
	if m.Label != "" {
		fmt.Fprintf(&b, "%s<%s:Label%s>%s</%s:Label>", indent, xp, xmpDecl, esc(m.Label), xp)
	}
	if len(m.Tags) > 0 {
		fmt.Fprintf(&b, "%s<%s:subject%s>%s <%s:Bag%s>", indent, dc, dcDecl, indent, rdf, rdfDecl)
		for _, t := range m.Tags {
			fmt.Fprintf(&b, "%s  <%s:li>%s</%s:li>", indent, rdf, esc(t), rdf)
		}
		fmt.Fprintf(&b, "%s </%s:Bag>%s</%s:subject>", indent, rdf, indent, dc)
	}
	if m.Note != "" {
		fmt.Fprintf(&b, "%s<%s:description%s>%s <%s:Alt%s>%s  <%s:li xml:lang=\"x-default\">%s</%s:li>%s </%s:Alt>%s</%s:description>",
			indent, dc, dcDecl, indent, rdf, rdfDecl, indent, rdf, esc(m.Note), rdf, indent, rdf, indent, dc)
	}
	return b.String()
}

// span is a byte range of the document to cut.
type span struct{ from, to int }

// rawAttr is an attribute as written in a start tag.
type rawAttr struct {
	name     string
	from, to int // in the document, with the whitespace before it
}

// Update returns doc with m's properties in place of the ones it had:
// xmp:Rating, xmp:Label, dc:subject and dc:description are removed wherever
// they are (attributes or elements, any prefix) and written again in the
// first rdf:Description; every other byte is kept. An empty doc gives New(m).
func Update(doc []byte, m Marks) ([]byte, error) {
	m = m.Normalize()
	if len(bytes.TrimSpace(doc)) == 0 {
		return New(m), nil
	}
	if len(doc) > MaxSize {
		return nil, fmt.Errorf("the XMP is %d MiB; at most %d MiB is rewritten", len(doc)>>20, MaxSize>>20)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	type open struct {
		name  xml.Name
		from  int               // offset of its start tag
		scope map[string]string // prefixes bound here and above
		cut   bool              // a property of ours, cut whole
	}
	var stack []open
	var cuts []span
	scope := map[string]string{"xml": NSXML}
	first := -1 // end of the first rdf:Description start tag
	selfClosing := false
	var firstScope map[string]string
	firstQName := ""
	inRDF := 0
	for {
		from := int(d.InputOffset())
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the XMP is not well-formed XML: %w", err)
		}
		to := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 64 {
				return nil, errors.New("the XMP is nested too deeply")
			}
			raw := doc[from:to]
			qname, attrs := lexTag(raw, from)
			sc := scope
			copied := false
			for _, a := range attrs {
				p, ok := strings.CutPrefix(a.name, "xmlns:")
				if a.name == "xmlns" {
					p, ok = "", true
				}
				if ok {
					if !copied {
						sc, copied = clone(scope), true
					}
					sc[p] = attrValue(doc[a.from:a.to])
				}
			}
			o := open{name: t.Name, from: from, scope: sc}
			if t.Name.Space == NSRDF && t.Name.Local == "RDF" {
				inRDF++
			}
			if n := len(stack); n > 0 && isDesc(stack[n-1].name) && ours(t.Name) {
				o.cut = true
			}
			if inRDF > 0 && isDesc(t.Name) {
				for _, a := range attrs {
					p, local, ok := strings.Cut(a.name, ":")
					if ok && p != "xmlns" && ours(xml.Name{Space: sc[p], Local: local}) {
						cuts = append(cuts, span{a.from, a.to})
					}
				}
				if first < 0 {
					first, firstScope, firstQName = to, sc, qname
					selfClosing = bytes.HasSuffix(raw, []byte("/>"))
				}
			}
			stack = append(stack, o)
			scope = sc
		case xml.EndElement:
			n := len(stack)
			if n == 0 {
				return nil, errors.New("the XMP is not well-formed XML")
			}
			o := stack[n-1]
			stack = stack[:n-1]
			if o.cut {
				// with the indentation before it
				f := o.from
				for f > 0 && (doc[f-1] == ' ' || doc[f-1] == '\t') {
					f--
				}
				if f > 0 && doc[f-1] == '\n' {
					f--
				}
				cuts = append(cuts, span{f, to})
			}
			if t.Name.Space == NSRDF && t.Name.Local == "RDF" {
				inRDF--
			}
			scope = map[string]string{"xml": NSXML}
			if len(stack) > 0 {
				scope = stack[len(stack)-1].scope
			}
		}
	}
	if first < 0 {
		return nil, errors.New("the XMP has no rdf:Description to hold the marks")
	}
	// the prefixes for our elements: the document's when bound to our
	// namespaces, else declared on the elements themselves
	rdf, rdfDecl := prefixFor(firstScope, NSRDF, "rdf")
	xp, xmpDecl := prefixFor(firstScope, NSXMP, "xmp")
	dc, dcDecl := prefixFor(firstScope, NSDC, "dc")
	indent := "\n" + guessIndent(doc, first)
	ins := props(m, rdf, xp, dc, rdfDecl, xmpDecl, dcDecl, indent)

	// merge the cuts and write the result
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].from < cuts[j].from })
	var out bytes.Buffer
	at := 0
	for _, c := range cuts {
		if c.from < at { // nested in a cut already made
			if c.to > at {
				at = c.to
			}
			continue
		}
		if at <= first && first <= c.from {
			writeInsert(&out, doc[at:first], ins, selfClosing, firstQName)
		} else {
			out.Write(doc[at:c.from])
		}
		at = c.to
	}
	if at <= first {
		writeInsert(&out, doc[at:first], ins, selfClosing, firstQName)
		at = first
	}
	out.Write(doc[at:])
	if _, err := Parse(out.Bytes()); err != nil { // never write what we cannot read back
		return nil, fmt.Errorf("updating the XMP would break it: %w", err)
	}
	return out.Bytes(), nil
}

// writeInsert writes part (which ends with the first rdf:Description start
// tag) and the properties after it.
func writeInsert(out *bytes.Buffer, part []byte, ins string, selfClosing bool, qname string) {
	if ins == "" {
		out.Write(part)
		return
	}
	if selfClosing {
		out.Write(bytes.TrimSuffix(part, []byte("/>")))
		out.WriteString(">" + ins + "\n</" + qname + ">")
		return
	}
	out.Write(part)
	out.WriteString(ins)
}

func ours(n xml.Name) bool {
	return n.Space == NSXMP && (n.Local == "Rating" || n.Local == "Label") ||
		n.Space == NSDC && (n.Local == "subject" || n.Local == "description")
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// prefixFor finds a prefix bound to ns, or picks one to declare.
func prefixFor(scope map[string]string, ns, want string) (prefix, decl string) {
	if scope[want] == ns {
		return want, ""
	}
	for p, u := range scope {
		if u == ns && p != "" {
			return p, ""
		}
	}
	p := want
	for i := 1; scope[p] != ""; i++ {
		p = want + strconv.Itoa(i)
	}
	return p, fmt.Sprintf(` xmlns:%s="%s"`, p, ns)
}

// guessIndent is the indentation of the line after offset, or of the line at it plus one.
func guessIndent(doc []byte, at int) string {
	line := bytes.LastIndexByte(doc[:at], '\n') + 1
	i := line
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t') {
		i++
	}
	return string(doc[line:i]) + " "
}

// lexTag splits a start tag into its qualified name and attributes (spans
// relative to the document, base being the tag's offset).
func lexTag(raw []byte, base int) (string, []rawAttr) {
	i := 1 // past '<'
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	name := string(raw[1:i])
	var attrs []rawAttr
	for i < len(raw) {
		ws := i
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] == '>' || raw[i] == '/' {
			break
		}
		ns := i
		for i < len(raw) && raw[i] != '=' && !isSpace(raw[i]) {
			i++
		}
		an := string(raw[ns:i])
		for i < len(raw) && (isSpace(raw[i]) || raw[i] == '=') {
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			break
		}
		q := raw[i]
		end := bytes.IndexByte(raw[i+1:], q)
		if end < 0 {
			break
		}
		i += end + 2
		attrs = append(attrs, rawAttr{name: an, from: base + ws, to: base + i})
	}
	return name, attrs
}

// attrValue is the unescaped value of a raw attribute ` name="value"`.
func attrValue(raw []byte) string {
	i := bytes.IndexAny(raw, `"'`)
	if i < 0 || len(raw) < i+2 {
		return ""
	}
	v := raw[i+1 : len(raw)-1]
	var s string
	if err := xml.Unmarshal([]byte("<a>"+string(v)+"</a>"), &s); err == nil {
		return s
	}
	return string(v)
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
