package httpapi

import (
	"context"
	"log/slog"
	"strings"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/totp"
)

func (s *appServer) accounts(ctx context.Context) (*postgres.Accounts, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Accounts{Pool: pool, From: s.in.Config.EmailFrom, BaseURL: s.in.Config.BaseURL.String()}, nil
}

// publish hands committed outbox emails to the mailer (see publishMail).
func (s *appServer) publish(ctx context.Context, reqs []mail.Request) { publishMail(ctx, s.in, reqs) }

// publishMail hands committed outbox emails to the mailer. A failure is logged, not returned: the
// email is stored and the retry-unsent-emails job publishes it later.
func publishMail(ctx context.Context, in *instance.Instance, reqs []mail.Request) {
	if len(reqs) == 0 {
		return
	}
	pub, err := in.Publisher(ctx)
	if err == nil {
		for _, r := range reqs {
			if _, err = events.PublishJSON(ctx, pub, events.TopicEmail, r, nil); err != nil {
				break
			}
		}
	}
	if err != nil {
		logging.Error(ctx, in.Log, "email stored but not published; the retry job will send it", err,
			slog.Int("emails", len(reqs)))
	}
}

var accepted = appapi.Status{Status: "accepted"}

func (s *appServer) SignUp(ctx context.Context, req appapi.SignUpRequestObject) (appapi.SignUpResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	nickname := ""
	if req.Body.Nickname != nil {
		nickname = *req.Body.Nickname
	}
	researcher := req.Body.Researcher != nil && *req.Body.Researcher
	reqs, err := a.SignUp(ctx, req.Body.Email, req.Body.Password, nickname, researcher)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.SignUp202JSONResponse{AcceptedJSONResponse: appapi.AcceptedJSONResponse(accepted)}, nil
}

func token(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > 128 {
		return "", apperr.Field("/token", "token is required")
	}
	return t, nil
}

func (s *appServer) VerifyEmail(ctx context.Context, req appapi.VerifyEmailRequestObject) (appapi.VerifyEmailResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	t, err := token(req.Body.Token)
	if err != nil {
		return nil, err
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := a.VerifyEmail(ctx, t)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.VerifyEmail204Response{}, nil
}

func (s *appServer) RequestPasswordReset(ctx context.Context, req appapi.RequestPasswordResetRequestObject) (appapi.RequestPasswordResetResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := a.RequestPasswordReset(ctx, req.Body.Email)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.RequestPasswordReset202JSONResponse{AcceptedJSONResponse: appapi.AcceptedJSONResponse(accepted)}, nil
}

func (s *appServer) ResetPassword(ctx context.Context, req appapi.ResetPasswordRequestObject) (appapi.ResetPasswordResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	t, err := token(req.Body.Token)
	if err != nil {
		return nil, err
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := a.ResetPassword(ctx, t, req.Body.Password)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.ResetPassword204Response{}, nil
}

func (s *appServer) ChangePassword(ctx context.Context, req appapi.ChangePasswordRequestObject) (appapi.ChangePasswordResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "passwords are changed from a browser session")
	}
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := a.ChangePassword(ctx, p.Subject.UserID, p.Session.Hash(), req.Body.CurrentPassword, req.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.ChangePassword204Response{}, nil
}

func (s *appServer) ChangeEmail(ctx context.Context, req appapi.ChangeEmailRequestObject) (appapi.ChangeEmailResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "email addresses are changed from a browser session")
	}
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	a, err := s.accounts(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := a.RequestEmailChange(ctx, p.Subject.UserID, req.Body.Password, req.Body.NewEmail)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, reqs)
	return appapi.ChangeEmail202JSONResponse{AcceptedJSONResponse: appapi.AcceptedJSONResponse(accepted)}, nil
}

func (s *appServer) StartTotp(ctx context.Context, _ appapi.StartTotpRequestObject) (appapi.StartTotpResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "authenticators are set up from a browser session")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	me, err := s.me(ctx, p.Subject.UserID, p.Subject.SecondFactor)
	if err != nil {
		return nil, err
	}
	issuer := "Lookit"
	if !s.in.Config.IsLocal() && s.in.Config.Environment != "production" {
		issuer = "Lookit-" + string(s.in.Config.Environment)
	} else if s.in.Config.IsLocal() {
		issuer = "Lookit-local"
	}
	e, err := a.StartTOTP(ctx, p.Subject.UserID, issuer, me.Email, p.Subject.SecondFactor)
	if err != nil {
		return nil, err
	}
	qr, err := totp.QRCode(e.URI)
	if err != nil {
		return nil, err
	}
	return appapi.StartTotp200JSONResponse{Secret: e.Secret, OtpauthUri: e.URI, QrCode: qr}, nil
}

func (s *appServer) ActivateTotp(ctx context.Context, req appapi.ActivateTotpRequestObject) (appapi.ActivateTotpResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "authenticators are set up from a browser session")
	}
	if req.Body == nil || strings.TrimSpace(req.Body.Code) == "" {
		return nil, apperr.Field("/code", "code is required")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := a.ActivateTOTP(ctx, *p.Session, strings.TrimSpace(req.Body.Code))
	if err != nil {
		return nil, err
	}
	return appapi.ActivateTotp200JSONResponse{RecoveryCodes: codes}, nil
}
