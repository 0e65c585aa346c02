package apierr

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestWrapKeepsMessageAndChain(t *testing.T) {
	base := fmt.Errorf("open x: %w", fs.ErrNotExist)
	err := Wrap(NotFound, base)
	if err.Error() != base.Error() || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, NotFound) || errors.Is(err, Conflict) {
		t.Fatalf("wrap: %v", err)
	}
	if Wrap(NotFound, nil) != nil || WithUI(nil, "x") != nil {
		t.Fatal("nil must stay nil")
	}
	if KindOf(errors.New("x")) != Internal || KindOf(nil) != Internal || KindOf(fmt.Errorf("a: %w", err)) != NotFound {
		t.Fatal("KindOf")
	}
	ui := WithUI(Errorf(Conflict, "taken: see `atelier x`"), "Taken.")
	if ui.Error() != "taken: see `atelier x`" || UIMessage(ui) != "Taken." || KindOf(ui) != Conflict || UIMessage(base) != base.Error() {
		t.Fatalf("ui: %v %q", ui, UIMessage(ui))
	}
	for _, k := range []Kind{Internal, NotFound, InvalidInput, NeedsConsent, Conflict, Locked} {
		if Parse(string(k)) != k {
			t.Errorf("parse %s", k)
		}
	}
	if Parse("weird") != Internal || Parse("") != Internal {
		t.Error("unknown kinds parse as internal")
	}
}
