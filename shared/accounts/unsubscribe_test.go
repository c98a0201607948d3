package accounts_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
)

func TestUnsubscribeTokenIdentifiesOnlyItsUser(t *testing.T) {
	key := []byte("a test key that is long enough to sign with")
	u := uuid.New()
	tok := accounts.UnsubscribeToken(key, u)
	if got, err := accounts.ParseUnsubscribeToken(key, tok); err != nil || got != u {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := accounts.ParseUnsubscribeToken([]byte("another key, after rotation of the secret"), tok); err == nil {
		t.Error("a token made with another key was accepted")
	}
	// Swapping in another user's UUID breaks the MAC: no one can unsubscribe someone else.
	other := accounts.UnsubscribeToken(key, uuid.New())
	forged := other[:21] + tok[21:]
	if _, err := accounts.ParseUnsubscribeToken(key, forged); err == nil {
		t.Error("a token with a swapped UUID was accepted")
	}
	for _, bad := range []string{"", tok[:42], tok + "A", strings.Repeat("!", 43)} {
		if _, err := accounts.ParseUnsubscribeToken(key, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseUnsubscribeToken(f *testing.F) {
	key := []byte("a test key that is long enough to sign with")
	f.Add(accounts.UnsubscribeToken(key, uuid.New()))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := accounts.ParseUnsubscribeToken(key, s)
		if err == nil && accounts.UnsubscribeToken(key, id) != s {
			t.Fatalf("accepted %q, which is not the token of %v", s, id)
		}
	})
}
