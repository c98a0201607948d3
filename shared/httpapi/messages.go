package httpapi

import (
	"context"
	"slices"
	"sort"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/postgres"
)

func (s *appServer) messages(ctx context.Context) (*postgres.Messages, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Messages{ResearchData: postgres.ResearchData{Pool: pool}, From: s.in.Config.EmailFrom,
		BaseURL: s.in.Config.BaseURL.String(), UnsubscribeKey: []byte(s.in.Config.SecretKey)}, nil
}

// ListStudyParticipants is the recipient picker of Contact Participants.
func (s *appServer) ListStudyParticipants(ctx context.Context, _ appapi.ListStudyParticipantsRequestObject) (appapi.ListStudyParticipantsResponseObject, error) {
	m, err := s.messages(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := m.Participants(ctx, objectFrom(ctx).StudyID)
	if err != nil {
		return nil, err
	}
	out := make(appapi.ListStudyParticipants200JSONResponse, len(ps))
	for i, p := range ps {
		kinds := []string{}
		for k, ok := range p.Accepts {
			if ok {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
		out[i] = appapi.StudyParticipant{HashedId: p.Hash, Nickname: p.Nickname, Accepts: kinds}
	}
	slices.SortFunc(out, func(a, b appapi.StudyParticipant) int {
		if a.HashedId < b.HashedId {
			return -1
		}
		if a.HashedId > b.HashedId {
			return 1
		}
		return 0
	})
	return out, nil
}

// ListStudyMessages is the study's message history.
func (s *appServer) ListStudyMessages(ctx context.Context, r appapi.ListStudyMessagesRequestObject) (appapi.ListStudyMessagesResponseObject, error) {
	m, err := s.messages(ctx)
	if err != nil {
		return nil, err
	}
	participant := ""
	if r.Params.Participant != nil {
		participant = *r.Params.Participant
	}
	hist, err := m.History(ctx, objectFrom(ctx).StudyID, participant)
	if err != nil {
		return nil, err
	}
	out := make(appapi.ListStudyMessages200JSONResponse, len(hist))
	for i, e := range hist {
		out[i] = appapi.StudyMessage{Id: uuid.MustParse(e.UUID), Kind: e.Kind, Subject: e.Subject, Body: e.Body, Sender: e.Sender,
			Recipients: e.Recipients, CreatedAt: e.CreatedAt.UTC()}
	}
	return out, nil
}

// SendStudyMessage emails a researcher's message to participants.
func (s *appServer) SendStudyMessage(ctx context.Context, r appapi.SendStudyMessageRequestObject) (appapi.SendStudyMessageResponseObject, error) {
	if r.Body == nil {
		return nil, apperr.Field("", "a JSON body is required")
	}
	m, err := s.messages(ctx)
	if err != nil {
		return nil, err
	}
	sent, mails, err := m.Send(ctx, objectFrom(ctx).StudyID, PrincipalFrom(ctx).Subject.UserID, postgres.MessageInput{
		Kind: string(r.Body.Kind), Subject: r.Body.Subject, Body: r.Body.Body, Recipients: r.Body.Recipients})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	out := appapi.SendStudyMessage201JSONResponse{Id: uuid.MustParse(sent.UUID), SentTo: sent.SentTo}
	out.Skipped = make([]struct {
		HashedId string `json:"hashed_id"`
		Reason   string `json:"reason"`
	}, len(sent.Skipped))
	for i, k := range sent.Skipped {
		out.Skipped[i].HashedId, out.Skipped[i].Reason = k.Hash, k.Reason
	}
	return out, nil
}
