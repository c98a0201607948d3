package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/auth"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/web"
)

// Cookie names are Django's, which the experiment runner expects.
const (
	SessionCookie = "sessionid"
	CSRFCookie    = "csrftoken"
	CSRFHeader    = "X-CSRFToken"
)

// Principal is who made a request and how.
type Principal struct {
	Subject    authz.Subject
	Session    *postgres.Session // nil for anonymous and token requests
	SessionKey string
	ViaToken   bool
}

type principalKey struct{}

// PrincipalFrom returns the request's principal (anonymous when none was set).
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return &Principal{}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate resolves the request's credentials into a Principal: an API token in the
// Authorization header (Lookit's "Token <key>" or "Bearer <key>"), else the session cookie. A
// cookie-authenticated unsafe request must carry X-CSRFToken equal to the csrftoken cookie and to
// the session's token. Bad credentials are refused rather than treated as anonymous.
func authenticate(in *instance.Instance, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(in, r)
		if err != nil {
			web.Error(w, r, in.Log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func principal(in *instance.Instance, r *http.Request) (*Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Token") && !strings.EqualFold(scheme, "Bearer") {
			return nil, apperr.New(apperr.Unauthenticated, "Authorization must be Token <key> or Bearer <key>")
		}
		pool, err := in.DB(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
		}
		a := &postgres.Auth{Pool: pool}
		tok, ok, err := a.FindToken(ctx, strings.TrimSpace(key))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.New(apperr.Unauthenticated, "invalid or expired API token")
		}
		// Tokens are made from a two-factor session, so they carry the second factor.
		s, err := a.Subject(ctx, tok.UserID, tok.Researcher, tok.SiteAdmin, true, tok.Scope)
		if err != nil {
			return nil, err
		}
		return &Principal{Subject: s, ViaToken: true}, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return &Principal{}, nil
	}
	pool, err := in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	a := &postgres.Auth{Pool: pool}
	sess, ok, err := a.FindSession(ctx, c.Value)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &Principal{}, nil // expired or ended: anonymous
	}
	if !safeMethod(r.Method) {
		cookie, _ := r.Cookie(CSRFCookie)
		header := r.Header.Get(CSRFHeader)
		if cookie == nil || header == "" || !auth.Equal(header, cookie.Value) || !auth.Equal(header, sess.CSRFToken) {
			return nil, apperr.New(apperr.Forbidden, "CSRF token missing or incorrect")
		}
	}
	s, err := a.Subject(ctx, sess.UserID, sess.Researcher, sess.SiteAdmin, sess.TwoFactor, authz.ScopeSession)
	if err != nil {
		return nil, err
	}
	return &Principal{Subject: s, Session: &sess, SessionKey: c.Value}, nil
}

// clientAddr is the client's address: behind Google's load balancer the last two entries of
// X-Forwarded-For are the client and the balancer; locally, the peer.
func clientAddr(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		parts := strings.Split(xff, ",")
		if len(parts) >= 2 {
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-2])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
