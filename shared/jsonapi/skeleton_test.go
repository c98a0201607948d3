package jsonapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// valid agrees with encoding/json.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,-0.5e+3,true,false,null,"\u00e9\n"]}`, ` "x" `, `01`, `[1,]`, `{"a" 1}`, `"\u12g4"`, "\"\x01\"", `1.`, `-`, `[` + strings.Repeat(`[`, 10001)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

func TestValidDepth(t *testing.T) {
	for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if got, want := valid(b), json.Valid(b); got != want {
			t.Errorf("depth %d: valid %v, json.Valid %v", n, got, want)
		}
	}
}

// decodeDocument reads every body as encoding/json alone does, large values included.
func FuzzDecodeDocument(f *testing.F) {
	f.Add(`{"type":"responses","attributes":{"expData":{"0-a":{"t":"x"}},"sequence":["0-a"]},"relationships":{"child":{"data":{"type":"children","id":"x"}}}}`)
	f.Add(`{"TYPE":"responses","Attributes":{"a":"\u0041","a":null},"attributes":{"b":[1]}}`)
	f.Add(`{"type":{"a":1},"id":"1"}`)
	f.Fuzz(func(t *testing.T, data string) {
		pad := `"` + strings.Repeat("p", minHidden) + `"`
		for _, body := range []string{
			data,
			`{"data":` + data + `}`,
			`{"data":{"type":"responses","attributes":{"a":` + pad + `,"b":` + data + `}}}`,
			`{"data":{"type":"responses","attributes":{"a":` + pad + `},"relationships":{"r":` + data + `,"s":` + pad + `}}}`,
			`{"data":{"attributes":{"a":` + pad + `}},"data":` + data + `}`,
		} {
			got, gotErr := decodeDocument([]byte(body))
			want, wantErr := decodeSlow([]byte(body))
			if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Fatalf("%q: error %v, encoding/json %v", body, gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: %+v, encoding/json %+v", body, got.Data, want.Data)
			}
		}
	})
}
