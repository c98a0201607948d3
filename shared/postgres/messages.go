package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/apperr"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// Message kinds researchers write (Lookit's Contact Participants types). Transactional messages
// reach every participant; the others only families whose preference allows them.
const (
	MessageTransactional     = "transactional"
	MessageStudyUpdate       = "study_update"
	MessageNextSession       = "next_session"
	MessageResponseQuestions = "response_questions"
)

// Messages sends researchers' messages to a study's participants through the outbox.
type Messages struct {
	ResearchData
	From    string // EMAIL_FROM
	BaseURL string // the email preferences link and one-click unsubscribe links
	// UnsubscribeKey signs each family's one-click unsubscribe link (SECRET_KEY).
	UnsubscribeKey []byte
}

// Participant is one family who took part in a study, as the recipient picker shows it.
type Participant struct {
	Hash, Nickname string
	// Accepts says which message kinds the family's preferences allow.
	Accepts map[string]bool
}

func accepts(p db.StudyParticipantsRow) map[string]bool {
	ok := p.IsActive && !p.IsSpam
	return map[string]bool{MessageTransactional: ok, MessageStudyUpdate: ok && p.EmailStudyUpdates,
		MessageNextSession: ok && p.EmailNextSession, MessageResponseQuestions: ok && p.EmailResponseQuestions}
}

// Participants lists the study's participants by their hashed id in the study.
func (m *Messages) Participants(ctx context.Context, studyID int64) ([]Participant, error) {
	q := db.New(m.Pool)
	h, err := m.hashing(ctx, q, studyID)
	if err != nil {
		return nil, fmt.Errorf("postgres: participants: %w", err)
	}
	rows, err := q.StudyParticipants(ctx, studyID)
	if err != nil {
		return nil, fmt.Errorf("postgres: participants: %w", err)
	}
	out := make([]Participant, len(rows))
	for i, p := range rows {
		out[i] = Participant{Hash: h.of(p.Uuid), Nickname: p.Nickname, Accepts: accepts(p)}
	}
	return out, nil
}

// MessageInput is a message to send.
type MessageInput struct {
	Kind, Subject, Body string
	Recipients          []string // participants' hashed ids in the study
}

// Skipped is a recipient the message was not sent to, and why.
type Skipped struct{ Hash, Reason string }

// SentMessage is what sending did.
type SentMessage struct {
	UUID    string
	SentTo  int
	Skipped []Skipped
}

// Send stores the message, its recipients and one email to them in one transaction (each family
// gets its own copy, Reply-To the lab's contact, its own unsubscribe link) and returns the email
// to publish once committed. Recipients must be the study's participants; a family whose
// preferences refuse the kind is skipped and reported, as is an unknown hashed id.
func (m *Messages) Send(ctx context.Context, studyID, senderID int64, in MessageInput) (SentMessage, []pmail.Request, error) {
	switch in.Kind {
	case MessageTransactional, MessageStudyUpdate, MessageNextSession, MessageResponseQuestions:
	default:
		return SentMessage{}, nil, apperr.Field("/kind", "kind must be transactional, study_update, next_session or response_questions")
	}
	if s := strings.TrimSpace(in.Subject); s == "" || utf8.RuneCountInString(in.Subject) > 200 || strings.ContainsAny(in.Subject, "\r\n") {
		return SentMessage{}, nil, apperr.Field("/subject", "subject must be one line of 1 to 200 characters")
	}
	if strings.TrimSpace(in.Body) == "" || utf8.RuneCountInString(in.Body) > 20000 {
		return SentMessage{}, nil, apperr.Field("/body", "body must be 1 to 20,000 characters")
	}
	if len(in.Recipients) == 0 || len(in.Recipients) > pmail.MaxRecipients {
		return SentMessage{}, nil, apperr.Field("/recipients", "list 1 to %d recipients", pmail.MaxRecipients)
	}
	var out SentMessage
	var queued []pmail.Request
	err := InTx(ctx, m.Pool, func(tx pgx.Tx) error {
		out, queued = SentMessage{}, nil
		q := db.New(tx)
		h, err := m.hashing(ctx, q, studyID)
		if err != nil {
			return err
		}
		rows, err := q.StudyParticipants(ctx, studyID)
		if err != nil {
			return err
		}
		byHash := make(map[string]db.StudyParticipantsRow, len(rows))
		for _, p := range rows {
			byHash[strings.ToLower(h.of(p.Uuid))] = p
		}
		var userIDs []int64
		var to, unsubscribe []string
		seen := map[int64]bool{}
		base := strings.TrimRight(m.BaseURL, "/")
		for _, hash := range in.Recipients {
			p, ok := byHash[strings.ToLower(strings.TrimSpace(hash))]
			switch {
			case !ok:
				out.Skipped = append(out.Skipped, Skipped{hash, "not a participant of this study"})
			case seen[p.ID]:
			case !accepts(p)[in.Kind]:
				out.Skipped = append(out.Skipped, Skipped{hash, "the family's email preferences refuse " + strings.ReplaceAll(in.Kind, "_", " ") + " messages"})
			default:
				seen[p.ID] = true
				userIDs, to = append(userIDs, p.ID), append(to, p.Email)
				if u, err := uuid.Parse(p.Uuid); err == nil && len(m.UnsubscribeKey) > 0 {
					unsubscribe = append(unsubscribe, pmail.UnsubscribeURL(base, m.UnsubscribeKey, u))
				}
			}
		}
		if len(to) == 0 {
			return apperr.Field("/recipients", "none of the recipients may receive this message")
		}
		if len(unsubscribe) != len(to) {
			unsubscribe = []string{}
		}
		contact, err := q.StudyContact(ctx, studyID)
		if err != nil {
			return err
		}
		msg, err := q.InsertResearcherMessage(ctx, db.InsertResearcherMessageParams{StudyID: studyID, SenderID: &senderID,
			Kind: in.Kind, Subject: in.Subject, Body: in.Body})
		if err != nil {
			return err
		}
		c, err := pmail.ResearcherMessage(in.Subject, in.Body, contact.Name, base+"/account/email/").Render()
		if err != nil {
			return err
		}
		r := pmail.Request{ID: uuid.NewString(), Kind: c.Kind, To: to, Subject: c.Subject, Text: c.Text, HTML: c.HTML,
			ReplyTo: contact.ContactEmail, ListUnsubscribe: unsubscribe}
		if r.ValidReplyTo() != nil {
			r.ReplyTo = ""
		}
		if err := r.Validate(); err != nil {
			return apperr.Field("/recipients", "%v", err)
		}
		if err := q.StoreEmailForDelivery(ctx, db.StoreEmailForDeliveryParams{ID: r.ID, Kind: r.Kind, FromAddress: m.From,
			ToAddresses: r.To, Subject: r.Subject, BodyText: r.Text, BodyHtml: r.HTML, ReplyTo: r.ReplyTo, ListUnsubscribe: unsubscribe}); err != nil {
			return err
		}
		if err := q.InsertMessageRecipients(ctx, db.InsertMessageRecipientsParams{MessageID: msg.ID, UserIds: userIDs, EmailID: r.ID}); err != nil {
			return err
		}
		out.UUID, out.SentTo, queued = msg.Uuid, len(to), []pmail.Request{r}
		return nil
	})
	if err != nil {
		return SentMessage{}, nil, fmt.Errorf("postgres: send message: %w", err)
	}
	return out, queued, nil
}

// SentEntry is one message in a study's history.
type SentEntry struct {
	UUID, Kind, Subject, Body, Sender string
	Recipients                        int
	CreatedAt                         time.Time
}

// History lists a study's messages, newest first; a participant's hashed id narrows it to the
// messages that family received.
func (m *Messages) History(ctx context.Context, studyID int64, participantHash string) ([]SentEntry, error) {
	q := db.New(m.Pool)
	var userID *int64
	if participantHash != "" {
		h, err := m.hashing(ctx, q, studyID)
		if err != nil {
			return nil, fmt.Errorf("postgres: messages: %w", err)
		}
		rows, err := q.StudyParticipants(ctx, studyID)
		if err != nil {
			return nil, fmt.Errorf("postgres: messages: %w", err)
		}
		none := int64(-1) // an unknown family received nothing
		userID = &none
		for _, p := range rows {
			if strings.EqualFold(h.of(p.Uuid), participantHash) {
				userID = &p.ID
				break
			}
		}
	}
	rows, err := q.StudyMessages(ctx, db.StudyMessagesParams{StudyID: studyID, UserID: userID, Lim: 500})
	if err != nil {
		return nil, fmt.Errorf("postgres: messages: %w", err)
	}
	out := make([]SentEntry, len(rows))
	for i, r := range rows {
		out[i] = SentEntry{UUID: r.Uuid, Kind: r.Kind, Subject: r.Subject, Body: r.Body, Sender: r.Sender, Recipients: int(r.Recipients), CreatedAt: r.CreatedAt.Time}
	}
	return out, nil
}
