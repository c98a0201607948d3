package jsonb_test

import (
	"encoding/json"
	"os"
	"testing"

	"lookit.dev/platform/shared/jsonb"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestCheck(t *testing.T) {
	for in, want := range map[string]error{
		`{"a":"b"}`: nil, `{"a":"\\u0000"}`: nil, `{"a":"\u00e9\ud83d\ude00"}`: nil, `"\"\\"`: nil,
		`{"a":"\u0000"}`: jsonb.ErrNUL, `["\ud83d"]`: jsonb.ErrSurrogate, `["\ude00"]`: jsonb.ErrSurrogate,
		`["\ud83dx\ude00"]`: jsonb.ErrSurrogate, "[\"\xff\"]": jsonb.ErrInvalidUTF8,
	} {
		if got := jsonb.Check([]byte(in)); got != want {
			t.Errorf("Check(%s) = %v, want %v", in, got, want)
		}
	}
}

// What Check accepts, PostgreSQL's jsonb accepts.
func FuzzCheckAgreesWithPostgres(f *testing.F) {
	pool := pgtest.Pool(f)
	for _, s := range []string{`{"a":"\u0000"}`, `["\ud83d\ude00"]`, `["\ud83d"]`, `"x\\u0000"`, `{"k":[1,2,{"\u00e9":null}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		err := jsonb.Check([]byte(s))
		var out string
		dbErr := pool.QueryRow(t.Context(), `SELECT $1::text::jsonb::text`, s).Scan(&out)
		if err == nil && dbErr != nil {
			t.Fatalf("Check accepted %q, PostgreSQL refused: %v", s, dbErr)
		}
	})
}
