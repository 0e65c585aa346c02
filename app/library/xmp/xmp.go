// Package xmp keeps the creator's marks on a file - tags, a 0-5 rating, a
// colour label and a note - in XMP sidecars, the way darktable, digiKam,
// Lightroom and Bridge read them (xmp:Rating, xmp:Label, dc:subject,
// dc:description), and in a localdb store with the saved smart collections.
//
// Writing a sidecar changes only those four properties: everything else
// another program keeps there (darktable's edit history, Lightroom's develop
// settings) is kept byte for byte.
package xmp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Namespaces of the properties Atelier reads and writes.
const (
	NSRDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	NSXMP = "http://ns.adobe.com/xap/1.0/"
	NSDC  = "http://purl.org/dc/elements/1.1/"
	NSX   = "adobe:ns:meta/"
	NSXML = "http://www.w3.org/XML/1998/namespace"
)

// Marks are what the creator said about a file. Its fields match
// query.Marks, so one converts to the other.
type Marks struct {
	Rating int      `json:"rating"`          // 0 unrated, 1..5 stars, -1 rejected
	Label  string   `json:"label,omitempty"` // colour label: Red, Yellow, Green, Blue, Purple (or any word)
	Tags   []string `json:"tags,omitempty"`  // keywords (dc:subject)
	Note   string   `json:"note,omitempty"`  // dc:description
}

// IsZero reports whether m says nothing.
func (m Marks) IsZero() bool {
	return m.Rating == 0 && m.Label == "" && len(m.Tags) == 0 && m.Note == ""
}

// Equal compares marks (tags in order).
func (m Marks) Equal(o Marks) bool {
	return m.Rating == o.Rating && m.Label == o.Label && m.Note == o.Note && slices.Equal(m.Tags, o.Tags)
}

// Labels are the colour labels Lightroom, Bridge and darktable share.
var Labels = []string{"Red", "Yellow", "Green", "Blue", "Purple"}

// Normalize trims the marks, bounds the rating to -1..5, capitalises known
// labels, and drops empty and repeated tags (ignoring case).
func (m Marks) Normalize() Marks {
	m.Rating = max(-1, min(5, m.Rating))
	m.Label = strings.TrimSpace(m.Label)
	for _, l := range Labels {
		if strings.EqualFold(l, m.Label) {
			m.Label = l
		}
	}
	m.Note = strings.TrimSpace(m.Note)
	var tags []string
	seen := map[string]bool{}
	for _, t := range m.Tags {
		t = strings.TrimSpace(t)
		if k := strings.ToLower(t); t != "" && !seen[k] {
			seen[k] = true
			tags = append(tags, t)
		}
	}
	m.Tags = tags
	return m
}

// MaxSize bounds a sidecar read (darktable's with a long history reach a few hundred KiB).
const MaxSize = 8 << 20

// Parse reads the marks from an XMP document (a sidecar or a packet). The
// properties may be written as attributes of rdf:Description or as elements,
// under any prefix bound to their namespace.
func Parse(doc []byte) (Marks, error) {
	var m Marks
	if len(doc) > MaxSize {
		return m, fmt.Errorf("the XMP is %d MiB; at most %d MiB is read", len(doc)>>20, MaxSize>>20)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var stack []xml.Name
	var text strings.Builder
	inRDF := false
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Marks{}, fmt.Errorf("the XMP is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return Marks{}, errors.New("the XMP is nested too deeply")
			}
			if t.Name.Space == NSRDF && t.Name.Local == "RDF" {
				inRDF = true
			}
			if inRDF && t.Name.Space == NSRDF && t.Name.Local == "Description" {
				for _, a := range t.Attr {
					setProp(&m, a.Name, a.Value)
				}
			}
			stack = append(stack, t.Name)
			text.Reset()
		case xml.CharData:
			if text.Len() < 64<<10 {
				text.Write(t)
			}
		case xml.EndElement:
			depth--
			n := len(stack)
			if n == 0 {
				return Marks{}, errors.New("the XMP is not well-formed XML")
			}
			stack = stack[:n-1]
			v := strings.TrimSpace(text.String())
			text.Reset()
			// a simple property: rdf:Description > prop
			if n >= 2 && isDesc(stack[n-2]) {
				setProp(&m, t.Name, v)
			}
			// an array item: rdf:Description > prop > rdf:Bag|Seq|Alt > rdf:li
			if n >= 4 && t.Name.Space == NSRDF && t.Name.Local == "li" && isDesc(stack[n-4]) {
				prop := stack[n-3]
				switch {
				case prop.Space == NSDC && prop.Local == "subject":
					if v != "" && len(m.Tags) < 1000 {
						m.Tags = append(m.Tags, v)
					}
				case prop.Space == NSDC && prop.Local == "description":
					if m.Note == "" {
						m.Note = v
					}
				}
			}
			if t.Name.Space == NSRDF && t.Name.Local == "RDF" {
				inRDF = false
			}
		}
	}
	return m.Normalize(), nil
}

func isDesc(n xml.Name) bool { return n.Space == NSRDF && n.Local == "Description" }

func setProp(m *Marks, n xml.Name, v string) {
	switch {
	case n.Space == NSXMP && n.Local == "Rating":
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= -1 && f <= 5 {
			m.Rating = int(f)
		}
	case n.Space == NSXMP && n.Local == "Label":
		m.Label = strings.TrimSpace(v)
	case n.Space == NSDC && n.Local == "description" && v != "":
		if m.Note == "" {
			m.Note = v
		}
	}
}
