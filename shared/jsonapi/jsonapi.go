// Package jsonapi reads and writes the JSON:API documents of Lookit's compatibility API the way
// the real experiment runner and Lookit's DRF-JSONAPI setup exchange them (reference §4.1):
// plural types, the UUID as data.id, snake_case attributes out, top-level attribute keys in
// camelCase or dasherized form accepted (nested keys such as exp_data's frame ids untouched),
// and pagination metadata under links.meta.
package jsonapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"

	"lookit.dev/platform/shared/apperr"
)

// MediaType is JSON:API's media type.
const MediaType = "application/vnd.api+json"

// Identifier names a resource.
type Identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Links of a relationship as Lookit's read serializers render them: a related URL, no data.
type Links struct {
	Related string `json:"related,omitempty"`
	Self    string `json:"self,omitempty"`
}

// Relationship is a relationship object: Data for write serializers, Links for read ones.
type Relationship struct {
	Data  *Identifier `json:"data,omitempty"`
	Links *Links      `json:"links,omitempty"`
}

// Resource is a resource object to write. Attributes is usually a struct with snake_case json
// tags that includes "pk", the integer id.
type Resource struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id"`
	Attributes    any                     `json:"attributes"`
	Relationships map[string]Relationship `json:"relationships,omitempty"`
	Links         *Links                  `json:"links,omitempty"`
}

// Incoming is a resource object read from a request.
type Incoming struct {
	Type string
	ID   string
	// Attributes by snake_case name; values as sent (nested keys untouched).
	Attributes map[string]json.RawMessage
	// Relationships that carry data, by snake_case name.
	Relationships map[string]Identifier
}

// SnakeCase turns a top-level attribute name as a client may send it (expData, exp-data,
// exp_data) into the snake_case name the API uses.
func SnakeCase(key string) string {
	var b strings.Builder
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case r == '-':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			// A boundary before an upper-case letter that follows a lower-case letter or digit, or
			// that starts a new word after an acronym (HTTPServer → http_server).
			if i > 0 && rs[i-1] != '_' && rs[i-1] != '-' &&
				(unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type rawDocument struct {
	Data *struct {
		Type          *string                    `json:"type"`
		ID            *string                    `json:"id"`
		Attributes    map[string]json.RawMessage `json:"attributes"`
		Relationships map[string]json.RawMessage `json:"relationships"`
	} `json:"data"`
}

// Decode reads a request document holding one resource of type wantType. Errors name the member
// with a JSON pointer: a missing data member is a 400 at /data, a type other than wantType a
// 409 at /data/type (as Lookit answers), malformed relationships a 400 at their pointer.
func Decode(body []byte, wantType string) (Incoming, error) {
	doc, err := decodeDocument(body)
	if err != nil {
		return Incoming{}, err
	}
	if doc.Data == nil {
		return Incoming{}, apperr.Field("/data", "received document does not contain primary data")
	}
	d := doc.Data
	if d.Type == nil || *d.Type == "" {
		return Incoming{}, apperr.Field("/data/type", "the resource type is required")
	}
	if *d.Type != wantType {
		e := apperr.New(apperr.Conflict, "the resource type %q does not match the endpoint's %q", truncate(*d.Type), wantType)
		e.Field = "/data/type"
		return Incoming{}, e
	}
	in := Incoming{Type: *d.Type, Attributes: map[string]json.RawMessage{}, Relationships: map[string]Identifier{}}
	if d.ID != nil {
		in.ID = *d.ID
	}
	for k, v := range d.Attributes {
		in.Attributes[SnakeCase(k)] = v
	}
	for k, raw := range d.Relationships {
		name := SnakeCase(k)
		pointer := "/data/relationships/" + escape(k)
		var rel struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &rel); err != nil {
			return Incoming{}, apperr.Field(pointer, "a relationship must be an object with data")
		}
		if len(rel.Data) == 0 || string(rel.Data) == "null" {
			continue
		}
		var id Identifier
		if err := json.Unmarshal(rel.Data, &id); err != nil || id.Type == "" || id.ID == "" {
			return Incoming{}, apperr.Field(pointer+"/data", "a relationship's data must have a type and an id")
		}
		in.Relationships[name] = id
	}
	return in, nil
}

// decodeDocument reads the document's structure; large attribute and relationship values are
// checked once and not decoded (see skeleton).
func decodeDocument(body []byte) (rawDocument, error) {
	if !valid(body) {
		return decodeSlow(body)
	}
	skel, hidden, ok := skeleton(body)
	if !ok {
		return decodeSlow(body)
	}
	doc, err := decodeSlow(skel)
	if err != nil || doc.Data == nil {
		return doc, err
	}
	for _, m := range []map[string]json.RawMessage{doc.Data.Attributes, doc.Data.Relationships} {
		for k, v := range m {
			if orig, ok := hidden[string(v)]; ok {
				m[k] = orig
			}
		}
	}
	return doc, nil
}

// decodeSlow reads the document with encoding/json alone.
func decodeSlow(body []byte) (rawDocument, error) {
	var doc rawDocument
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return rawDocument{}, apperr.Field("/data", "the body must be a JSON:API document")
	}
	if dec.More() {
		return rawDocument{}, apperr.Field("/data", "the body must hold one JSON document")
	}
	return doc, nil
}

// escape writes a JSON pointer token (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
