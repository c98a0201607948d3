// Package mailsink is the local stand-in for SendGrid: it accepts the v3 mail-send API, keeps
// every message in memory and lists them as JSON, so developers and tests can read the email the
// platform sent. It exists only in local mode.
package mailsink

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is one received email, flattened for reading.
type Message struct {
	ID         string            `json:"id"`
	ReceivedAt time.Time         `json:"received_at"`
	From       string            `json:"from"`
	To         []string          `json:"to"`
	Subject    string            `json:"subject"`
	Text       string            `json:"text"`
	HTML       string            `json:"html,omitempty"`
	ReplyTo    string            `json:"reply_to,omitempty"`
	Categories []string          `json:"categories,omitempty"`
	CustomArgs map[string]string `json:"custom_args,omitempty"`
	// Headers are the message's headers and its personalization's (which win), e.g. each
	// family's List-Unsubscribe.
	Headers map[string]string `json:"headers,omitempty"`
}

// Sink stores messages in memory, newest last.
type Sink struct {
	mu       sync.Mutex
	messages []Message
}

// Messages returns a copy of everything received.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

type v3Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type v3Mail struct {
	From             *v3Address `json:"from"`
	ReplyTo          *v3Address `json:"reply_to"`
	Subject          string     `json:"subject"`
	Personalizations []struct {
		To         []v3Address       `json:"to"`
		Subject    string            `json:"subject"`
		CustomArgs map[string]string `json:"custom_args"`
		Headers    map[string]string `json:"headers"`
	} `json:"personalizations"`
	Headers map[string]string `json:"headers"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
	Categories []string `json:"categories"`
}

// SendHandler serves POST /v3/mail/send like SendGrid: 401 without a bearer key, 400 for a body
// SendGrid would refuse, 202 with X-Message-Id otherwise.
func (s *Sink) SendHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			sendError(w, http.StatusMethodNotAllowed, "method not allowed", "")
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || len(r.Header.Get("Authorization")) <= len("Bearer ") {
			sendError(w, http.StatusUnauthorized, "The provided authorization grant is invalid, expired, or revoked", "")
			return
		}
		var m v3Mail
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 30<<20)).Decode(&m); err != nil {
			sendError(w, http.StatusBadRequest, "Bad Request", "")
			return
		}
		if m.From == nil || m.From.Email == "" {
			sendError(w, http.StatusBadRequest, "The from object must be provided for every email send.", "from")
			return
		}
		if len(m.Personalizations) == 0 {
			sendError(w, http.StatusBadRequest, "The personalizations field is required and must have at least one personalization.", "personalizations")
			return
		}
		if len(m.Content) == 0 {
			sendError(w, http.StatusBadRequest, "Unless a valid template_id is provided, the content parameter is required.", "content")
			return
		}
		id := newID()
		now := time.Now().UTC()
		from := m.From.Email
		if m.From.Name != "" {
			from = m.From.Name + " <" + m.From.Email + ">"
		}
		replyTo := ""
		if m.ReplyTo != nil {
			replyTo = m.ReplyTo.Email
		}
		var text, html string
		for _, c := range m.Content {
			switch c.Type {
			case "text/plain":
				text = c.Value
			case "text/html":
				html = c.Value
			}
		}
		// Like SendGrid, refuse the whole request before accepting any of it.
		for _, p := range m.Personalizations {
			if len(p.To) == 0 {
				sendError(w, http.StatusBadRequest, "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", "personalizations.to")
				return
			}
		}
		s.mu.Lock()
		for i, p := range m.Personalizations {
			subject := m.Subject
			if p.Subject != "" {
				subject = p.Subject
			}
			to := make([]string, len(p.To))
			for j, a := range p.To {
				to[j] = a.Email
			}
			var headers map[string]string
			if len(m.Headers)+len(p.Headers) > 0 {
				headers = make(map[string]string, len(m.Headers)+len(p.Headers))
				maps.Copy(headers, m.Headers)
				maps.Copy(headers, p.Headers)
			}
			s.messages = append(s.messages, Message{
				ID: id + "." + strconv.Itoa(i), ReceivedAt: now, From: from, To: to, Subject: subject,
				Text: text, HTML: html, ReplyTo: replyTo, Categories: m.Categories, CustomArgs: p.CustomArgs, Headers: headers,
			})
		}
		s.mu.Unlock()
		w.Header().Set("X-Message-Id", id)
		w.WriteHeader(http.StatusAccepted)
	})
}

// ListHandler serves the received messages as a JSON array.
func (s *Sink) ListHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		msgs := s.Messages()
		if msgs == nil {
			msgs = []Message{}
		}
		_ = json.NewEncoder(w).Encode(msgs)
	})
}

func sendError(w http.ResponseWriter, status int, msg, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	type e struct {
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	_ = json.NewEncoder(w).Encode(map[string][]e{"errors": {{Message: msg, Field: field}}})
}

func newID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
