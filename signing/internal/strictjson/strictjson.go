// Package strictjson decodes untrusted JSON strictly: a size cap, no duplicate
// object keys (at any depth), no unknown fields, and no trailing data.
// encoding/json alone accepts all three, and an attacker can use a duplicate
// key to show one value to a reviewer and another to a parser.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds nesting so a deeply nested document cannot exhaust the stack.
const MaxDepth = 64

// Decode parses data (at most max bytes) into v. what names the object in errors
// ("manifest atelier-module.json").
func Decode(data []byte, max int, what string, v any) error {
	if len(data) > max {
		return fmt.Errorf("%s is %d bytes, over the %d-byte limit: it is not a file Atelier wrote", what, len(data), max)
	}
	if err := CheckDuplicates(data); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s is not valid: %w", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s has trailing data after the JSON value", what)
	}
	return nil
}

// CheckDuplicates fails on a repeated key inside any object (compared after
// unescaping, so "\u0076ersion" repeats "version"), on nesting deeper than
// MaxDepth, and on invalid JSON or anything after the first value.
func CheckDuplicates(data []byte) error {
	if !json.Valid(data) {
		var v any
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		return errors.New("trailing data after the JSON value")
	}
	// data is valid JSON from here on, so a plain scan is enough.
	type frame struct {
		obj       bool
		expectKey bool
		keys      []string
	}
	var stack []frame
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(stack) >= MaxDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)
			}
			stack = append(stack, frame{obj: data[i] == '{', expectKey: data[i] == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].obj {
				stack[n-1].expectKey = true
			}
		case '"':
			j, esc := i+1, false
			for ; data[j] != '"'; j++ {
				if data[j] == '\\' {
					esc = true
					j++
				}
			}
			if n := len(stack); n > 0 && stack[n-1].expectKey {
				f := &stack[n-1]
				f.expectKey = false
				k := string(data[i+1 : j])
				if esc {
					if err := json.Unmarshal(data[i:j+1], &k); err != nil {
						return fmt.Errorf("invalid JSON: %w", err)
					}
				}
				for _, prev := range f.keys {
					if prev == k {
						return fmt.Errorf("duplicate key %q", k)
					}
				}
				f.keys = append(f.keys, k)
			}
			i = j
		}
	}
	return nil
}
