package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"lookit.dev/platform/shared/apperr"
)

func TestConstructors(t *testing.T) {
	e := apperr.New(apperr.NotFound, "no study %q", "s1")
	if e.Code != apperr.NotFound || e.Message != `no study "s1"` || e.Field != "" || e.Err != nil {
		t.Errorf("New = %+v", e)
	}
	f := apperr.Field("/data/attributes/name", "name must be at most %d characters", 10)
	if f.Code != apperr.Invalid || f.Field != "/data/attributes/name" || f.Message != "name must be at most 10 characters" {
		t.Errorf("Field = %+v", f)
	}
	cause := errors.New("cause")
	w := apperr.Wrap(cause, apperr.Unavailable, "try later")
	if w.Code != apperr.Unavailable || w.Message != "try later" || !errors.Is(w, cause) {
		t.Errorf("Wrap = %+v", w)
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		err  *apperr.Error
		want string
	}{
		{apperr.New(apperr.Conflict, "already published"), "conflict: already published"},
		{apperr.Field("/a", "bad"), "invalid: bad (/a)"},
		{apperr.Wrap(errors.New("db down"), apperr.Unavailable, "try later"), "unavailable: try later: db down"},
		{&apperr.Error{Code: apperr.Invalid, Message: "m", Field: "/f", Err: errors.New("c")}, "invalid: m (/f): c"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestCodeOfFollowsTheChain(t *testing.T) {
	inner := apperr.New(apperr.Forbidden, "no")
	if got := apperr.CodeOf(fmt.Errorf("handler: %w", inner)); got != apperr.Forbidden {
		t.Errorf("CodeOf(wrapped Forbidden) = %q", got)
	}
	if got := apperr.CodeOf(errors.New("plain")); got != apperr.Internal {
		t.Errorf("CodeOf(plain) = %q", got)
	}
	if got := apperr.CodeOf(nil); got != apperr.Internal {
		t.Errorf("CodeOf(nil) = %q", got)
	}
	// The outermost application error decides.
	outer := apperr.Wrap(inner, apperr.NotFound, "hidden")
	if got := apperr.CodeOf(outer); got != apperr.NotFound {
		t.Errorf("CodeOf(outer) = %q", got)
	}
}

func TestAsHidesNonApplicationErrors(t *testing.T) {
	secret := errors.New("secret db detail")
	e := apperr.As(fmt.Errorf("query: %w", secret))
	if e.Code != apperr.Internal || e.Message != "Internal error." {
		t.Errorf("As(plain) = %+v", e)
	}
	if !errors.Is(e, secret) {
		t.Errorf("As dropped the cause, so it cannot be logged")
	}

	app := apperr.New(apperr.RateLimited, "slow down")
	if got := apperr.As(fmt.Errorf("ctx: %w", app)); got != app {
		t.Errorf("As(wrapped app error) = %+v, want the same *Error", got)
	}
}
