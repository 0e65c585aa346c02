// Package apierr gives the errors the services return a kind (not found,
// invalid input, needs consent, conflict, locked), the way Kopia's
// internal/server/api_error.go does, so the local API can answer with the
// right HTTP status and the frontend and CLI can tell a refusal from a
// failure without reading messages.
//
// Tagging an error never changes its message: (*Error).Error is the wrapped
// error's message, and errors.Is/As see through it. A kind is matched with
// errors.Is(err, apierr.NotFound); KindOf reads it (Internal when untagged).
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for the callers of a service.
type Kind string

// The kinds, as they appear in the API's JSON error body ("kind").
const (
	Internal     Kind = "internal"     // anything else: a failure, not a refusal (HTTP 500)
	NotFound     Kind = "notFound"     // unknown project, remote, module, key, snapshot, file (404)
	InvalidInput Kind = "invalidInput" // bad argument, name, flag value or JSON (400)
	NeedsConsent Kind = "needsConsent" // a purpose the creator has not granted (403)
	Conflict     Kind = "conflict"     // the name is taken, the folder is not empty (409)
	Locked       Kind = "locked"       // the data directory is in use by another process (423)
)

// Error makes a Kind usable as an errors.Is target: errors.Is(err, apierr.NotFound).
func (k Kind) Error() string { return string(k) }

// Status is the HTTP status the local API answers for k.
func (k Kind) Status() int {
	switch k {
	case NotFound:
		return http.StatusNotFound
	case InvalidInput:
		return http.StatusBadRequest
	case NeedsConsent:
		return http.StatusForbidden
	case Conflict:
		return http.StatusConflict
	case Locked:
		return http.StatusLocked
	}
	return http.StatusInternalServerError
}

// Parse returns the Kind named s, Internal for anything unknown.
func Parse(s string) Kind {
	switch k := Kind(s); k {
	case NotFound, InvalidInput, NeedsConsent, Conflict, Locked:
		return k
	}
	return Internal
}

// Error is an error with a kind and, optionally, the sentence the desktop
// app shows instead of the message (whose advice may only make sense in a
// terminal: "see `atelier remote list`", "--overwrite").
type Error struct {
	Kind Kind
	Err  error
	// UI, when set, replaces Err's message in the desktop and browser app.
	UI string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Is matches the error's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Wrap tags err with kind k, keeping its message; nil stays nil.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// Errorf is fmt.Errorf tagged with kind k (%w works as usual).
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// WithUI gives err the message the app shows in place of err's own; err
// keeps its kind (Internal when it had none) and its message for the CLI.
func WithUI(err error, ui string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindOf(err), Err: err, UI: ui}
}

// KindOf returns the kind of the outermost tagged error in err's chain,
// Internal when there is none (and for nil).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// UIMessage is the message the desktop app shows for err: the outermost UI
// alternative in its chain, else err's own message.
func UIMessage(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ae, ok := e.(*Error); ok && ae.UI != "" {
			return ae.UI
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
