package httpapi_test

import (
	"testing"

	"lookit.dev/platform/shared/passwords"
)

func passwordHash(t *testing.T) (string, error) {
	t.Helper()
	h, err := passwords.Hash("login target password", passwords.Default)
	if err != nil {
		t.Fatal(err)
	}
	return h, nil
}
