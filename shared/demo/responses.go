package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/videos"
)

// Generated sessions: about sixty families (family-001@FamilyDomain, …) with their children and
// demographics, and n responses to the demo frameplayer and external studies over the last
// 120 days, as the platform would have recorded them: the runner's exp_data, consent rulings by
// the demo researcher, the recordings' video rows, a little feedback. The data is the same on
// every machine and from day to day but for its dates, which count back from now (fixed seeds).

// FamilyDomain is the email domain of the generated families; that they exist is what tells
// SeedResponses it has run.
const FamilyDomain = "families.example.org"

// Responses is how many sessions make run generates.
const Responses = 300

// PreviewChildUUID is the demo researcher's test child, whose sessions are the preview ones.
const PreviewChildUUID = "5eedc41d-0000-4000-8000-000000000001"

// The generator's fixed seed.
const seedA, seedB = 20240501, 0x5eed

// VideoObject is the object of a generated video row: the video bucket the row names
// (videos.BucketRecorder or videos.BucketPipe) and its key there (the row's full_name).
type VideoObject struct {
	Bucket string
	Key    string
}

// ContentType is the object's content type, by its extension.
func (v VideoObject) ContentType() string {
	if path.Ext(v.Key) == ".mp4" {
		return "video/mp4"
	}
	return "video/webm"
}

// SeedResponses generates the families and n sessions unless they exist already (Seed must have
// run: the sessions are in its studies), in one transaction, and returns the objects of the
// generated video rows, which exist in no bucket: the caller puts placeholders there. A second
// call adds nothing and returns the same objects.
func SeedResponses(ctx context.Context, pool *pgxpool.Pool, n int) ([]VideoObject, error) {
	if n < 0 {
		return nil, errors.New("demo: a negative number of responses")
	}
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.DemoDataLock(ctx); err != nil { // two dev servers on one database
			return err
		}
		if seeded, err := q.DemoFamiliesExist(ctx, FamilyDomain); err != nil || seeded || n == 0 {
			return err
		}
		var st [2]studyRef
		for i, name := range []string{FrameplayerStudy, ExternalStudy} {
			row, err := q.DemoStudy(ctx, db.DemoStudyParams{LabSlug: &labSlug, Name: name})
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("the study %q does not exist (Seed first)", name)
			}
			if err != nil {
				return err
			}
			st[i] = studyRef{ID: row.ID, UUID: row.Uuid}
		}
		return makePlan(n, time.Now(), st[0], st[1]).insert(ctx, q)
	})
	if err != nil {
		return nil, fmt.Errorf("demo: responses: %w", err)
	}
	rows, err := db.New(pool).DemoVideos(ctx, db.DemoVideosParams{Domain: FamilyDomain, PreviewChild: PreviewChildUUID})
	if err != nil {
		return nil, fmt.Errorf("demo: responses: %w", err)
	}
	out := make([]VideoObject, len(rows))
	for i, r := range rows {
		out[i] = VideoObject{Bucket: r.Bucket, Key: r.FullName}
	}
	return out, nil
}

type studyRef struct {
	ID   int64
	UUID string
}

// The rows of each table, as the queries of shared/postgres/queries/demodata.sql read them.
type (
	userRow struct {
		UUID             string    `json:"uuid"`
		Email            string    `json:"email"`
		GivenName        string    `json:"given_name"`
		FamilyName       string    `json:"family_name"`
		Nickname         string    `json:"nickname"`
		LastLoginAt      time.Time `json:"last_login_at"`
		EmailNewStudies  bool      `json:"email_new_studies"`
		EmailNextSession bool      `json:"email_next_session"`
		CreatedAt        time.Time `json:"created_at"`
	}
	childRow struct {
		UUID                  string    `json:"uuid"`
		UserEmail             string    `json:"user_email"`
		GivenName             string    `json:"given_name"`
		Birthday              string    `json:"birthday"`
		Gender                string    `json:"gender"`
		GestationalAgeAtBirth *int16    `json:"gestational_age_at_birth"`
		AdditionalInformation string    `json:"additional_information"`
		ExistingConditions    int64     `json:"existing_conditions"`
		LanguagesSpoken       int64     `json:"languages_spoken"`
		CreatedAt             time.Time `json:"created_at"`
	}
	demographicsRow struct {
		UserEmail                     string    `json:"user_email"`
		NumberOfChildren              string    `json:"number_of_children"`
		ChildBirthdays                []string  `json:"child_birthdays"`
		NumberOfGuardians             string    `json:"number_of_guardians"`
		NumberOfGuardiansExplanation  string    `json:"number_of_guardians_explanation"`
		USRaceEthnicityIdentification []string  `json:"us_race_ethnicity_identification"`
		Age                           string    `json:"age"`
		Gender                        string    `json:"gender"`
		EducationLevel                string    `json:"education_level"`
		AnnualIncome                  string    `json:"annual_income"`
		Country                       string    `json:"country"`
		State                         string    `json:"state"`
		Density                       string    `json:"density"`
		LookitReferrer                string    `json:"lookit_referrer"`
		AdditionalComments            string    `json:"additional_comments"`
		CreatedAt                     time.Time `json:"created_at"`
	}
	responseRow struct {
		UUID                  string          `json:"uuid"`
		StudyID               int64           `json:"study_id"`
		ChildUUID             string          `json:"child_uuid"`
		Completed             bool            `json:"completed"`
		CompletedConsentFrame bool            `json:"completed_consent_frame"`
		ExpData               json.RawMessage `json:"exp_data"`
		Conditions            json.RawMessage `json:"conditions"`
		GlobalEventTimings    json.RawMessage `json:"global_event_timings"`
		Sequence              []string        `json:"sequence"`
		IsPreview             bool            `json:"is_preview"`
		RecordingMethod       *string         `json:"recording_method"`
		PaymentStatus         string          `json:"payment_status"`
		SessionStatus         string          `json:"session_status"`
		Star                  bool            `json:"star"`
		CreatedAt             time.Time       `json:"created_at"`
		UpdatedAt             time.Time       `json:"updated_at"`

		withdrawn bool // on the exit survey
	}
	rulingRow struct {
		ResponseUUID string    `json:"response_uuid"`
		Action       string    `json:"action"`
		ArbiterEmail string    `json:"arbiter_email"`
		Comments     string    `json:"comments"`
		CreatedAt    time.Time `json:"created_at"`
	}
	videoRow struct {
		ResponseUUID     string    `json:"response_uuid"`
		CreatedAt        time.Time `json:"created_at"`
		S3Timestamp      time.Time `json:"s3_timestamp"`
		PipeName         *string   `json:"pipe_name"`
		PipeNumericID    *int64    `json:"pipe_numeric_id"`
		FrameID          string    `json:"frame_id"`
		FullName         string    `json:"full_name"`
		Bucket           string    `json:"bucket"`
		IsConsentFootage bool      `json:"is_consent_footage"`
	}
	feedbackRow struct {
		ResponseUUID    string    `json:"response_uuid"`
		ResearcherEmail string    `json:"researcher_email"`
		Comment         string    `json:"comment"`
		CreatedAt       time.Time `json:"created_at"`
	}
)

// plan is the generated data, ready to insert.
type plan struct {
	Users        []userRow
	Children     []childRow
	Demographics []demographicsRow
	Responses    []responseRow
	Rulings      []rulingRow
	Videos       []videoRow
	Feedback     []feedbackRow
}

func (p *plan) insert(ctx context.Context, q *db.Queries) error {
	steps := []struct {
		table string
		rows  any
		want  int
		fn    func(context.Context, []byte) (int64, error)
	}{
		{"users", p.Users, len(p.Users), q.DemoInsertUsers},
		{"children", p.Children, len(p.Children), q.DemoInsertChildren},
		// The demo researcher's own demographics stay when there are some.
		{"demographic_data", p.Demographics, len(p.Demographics) - 1, q.DemoInsertDemographics},
		{"responses", p.Responses, len(p.Responses), q.DemoInsertResponses},
		{"consent_rulings", p.Rulings, len(p.Rulings), q.DemoInsertRulings},
		{"videos", p.Videos, len(p.Videos), q.DemoInsertVideos},
		{"feedback", p.Feedback, len(p.Feedback), q.DemoInsertFeedback},
	}
	for _, s := range steps {
		b, err := json.Marshal(s.rows)
		if err != nil {
			return err
		}
		n, err := s.fn(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", s.table, err)
		}
		if n < int64(s.want) {
			// A row pointed at something missing (the demo researcher, say).
			return fmt.Errorf("%s: %d rows inserted, want %d", s.table, n, s.want)
		}
	}
	ids := make([]string, len(p.Responses))
	for i, r := range p.Responses {
		ids[i] = r.UUID
	}
	if err := q.DemoTally(ctx, ids); err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	return nil
}

// The frameplayer sessions' protocol: video setup, video consent, two test trials with a
// randomized condition, the exit survey. Frame ids carry the runner's index prefix.
const (
	frameConfig   = "0-video-config"
	frameConsent  = "1-video-consent"
	frameTrial1   = "2-test-trial"
	frameTrial2   = "3-test-trial"
	frameExit     = "4-exit-survey"
	conditionsKey = frameTrial1
)

// Frames is the generated frameplayer sessions' frame sequence; a session's sequence is a prefix.
var Frames = []string{frameConfig, frameConsent, frameTrial1, frameTrial2, frameExit}

var frameKinds = map[string]string{
	frameConfig: "exp-video-config", frameConsent: "exp-lookit-video-consent", frameTrial1: "exp-lookit-video",
	frameTrial2: "exp-lookit-video", frameExit: "exp-lookit-exit-survey",
}

// Fixed proportions of the generated data.
const (
	window          = 120 * 24 * time.Hour     // sessions are this recent
	maxAge          = 5 * 365 * 24 * time.Hour // the demo studies' maximum age (5 years, as study_eligibility counts)
	pipeBefore      = 100 * 24 * time.Hour     // older frameplayer sessions recorded with Pipe
	completedShare  = 0.8
	withdrawalShare = 0.05
)

var (
	parentNames = []string{"Maria", "Jennifer", "Aisha", "Priya", "Mei", "Sarah", "Emily", "Fatima", "Ana", "Jessica",
		"Olga", "Keisha", "Yuki", "Laura", "Rachel", "Grace", "Hannah", "Chioma", "Sofia", "Elena", "Daniel", "Michael",
		"James", "Carlos", "Wei", "Omar", "David", "Kwame", "Luis", "Tom", "Amir", "Rohan", "Noor", "Camila", "Inès",
		"Leah", "Zara", "Naomi", "Ivy", "Beatriz"}
	familyNames = []string{"Garcia", "Smith", "Nguyen", "Patel", "Kim", "Okafor", "Johnson", "Chen", "Hernández",
		"Williams", "Brown", "Martinez", "Rossi", "Cohen", "Singh", "Ahmed", "Kowalski", "Andersen", "Silva", "Tanaka",
		"Müller", "O'Brien", "Dubois", "Ivanova", "Mensah", "Haddad", "Park", "Lopez", "Murphy", "Yilmaz"}
	childNames = []string{"Ava", "Liam", "Noah", "Emma", "Olivia", "Mateo", "Zoë", "Aarav", "Amara", "Leo", "Mia",
		"Ethan", "Isla", "Kai", "Lucas", "Nora", "Elijah", "Aria", "Theo", "Maya", "Sebastián", "Layla", "Hugo",
		"Chloe", "Jonah", "Ruby", "Ezra", "Lena", "Finn", "Hana", "Iris", "Jude", "Luna", "Milo", "Nia", "Otis", "Ravi",
		"Sana", "Tariq", "Uma", "Vera", "Wren", "Yara", "Zane", "Ada", "Bo", "Cleo", "Dev"}
	states       = []string{"MA", "CA", "NY", "TX", "IL", "PA", "OH", "WA", "GA", "NC", "MI", "CO", "MN", "WI", "VA", "OR"}
	countries    = []string{"CA", "GB", "DE", "AU", "IN", "BR", "MX", "NL", "JP", "NG"}
	otherLangs   = []string{"es", "fr", "cmn", "de", "hi", "ko", "pt", "ru", "vi", "he", "ja", "it", "yue", "tl"}
	referrers    = []string{"", "", "A friend", "Facebook", "Our pediatrician", "Children Helping Science newsletter", "Google search", "A flyer at daycare"}
	childNotes   = []string{"Born three weeks early.", "Wears glasses.", "Has ear tubes.", "Very chatty!"}
	rejectNotes  = []string{"No parent visible in the consent video.", "Consent statement not audible.", "Consent video is blank.", "Child alone on camera; no consent statement read."}
	exitFeedback = []string{"My daughter loved the ball videos!", "He got a bit fussy during the second video.",
		"Our internet was slow and the video paused once.", "Fun study, thanks!", "Could the videos be a little shorter?",
		"She kept pointing at the screen and saying \"ball\"."}
	researcherFeedback = []string{"Thank you for taking part! Your child was wonderfully attentive.",
		"Thanks so much. The video came through clearly; we could see exactly where your child was looking.",
		"Thank you! A small tip for next time: a little more light in the room helps us see your child's eyes.",
		"We really appreciate your family's time. Your gift card is on its way."}
	paymentStatuses = []string{"review", "to_pay", "paid", "paid", "do_not_pay"}
	sessionStatuses = []string{"to_schedule", "scheduled", "session_attended", "session_complete", "follow_up",
		"communication_complete", "withdrawn_closed"}
)

// gen draws from a fixed-seed source. Each family and each session has its own (stream), so
// that draws which depend on the day (a session close to the Pipe era, say) change that item
// only: the data stays the same from day to day but for its dates.
type gen struct {
	r   *rand.Rand
	now time.Time
}

// The kinds of streams.
const (
	streamFamily = iota + 1
	streamResearcher
	streamSession
	streamFeedback
	streamAccount
)

// stream is the source of item i of a kind.
func (g *gen) stream(kind, i int) *gen {
	return &gen{r: rand.New(rand.NewPCG(seedA, seedB<<40|uint64(kind)<<32|uint64(i))), now: g.now}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// weighted returns an index drawn with the given weights.
func (g *gen) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// between is a time drawn uniformly from [lo, hi).
func (g *gen) between(lo, hi time.Time) time.Time {
	if !hi.After(lo) {
		return lo
	}
	return lo.Add(time.Duration(g.r.Int64N(int64(hi.Sub(lo)))))
}

// seconds is a duration drawn uniformly from [lo, hi) seconds, to the millisecond.
func (g *gen) seconds(lo, hi float64) time.Duration {
	return time.Duration((lo+g.r.Float64()*(hi-lo))*1000) * time.Millisecond
}

func (g *gen) uuid() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.r.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return uuid.UUID(b).String()
}

func (g *gen) alnum(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}

// jsTime is a time as the runner's JavaScript writes it (toISOString).
func jsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// family is a generated family while the plan is made.
type family struct {
	user     userRow
	demo     demographicsRow
	children []*kid
}

type kid struct {
	row         childRow
	birthday    time.Time
	first, last time.Time // the first session's start and the last one's end; zero when none
}

// makePlan generates n sessions (and about n/5 families) as of now: the same plan for the same
// arguments.
func makePlan(n int, now time.Time, internal, external studyRef) *plan {
	g := &gen{now: now.UTC()}
	p := &plan{}
	families := make([]*family, max(1, n/5))
	var kids []*kid
	for i := range families {
		f := g.stream(streamFamily, i).family(i + 1)
		families[i] = f
		kids = append(kids, f.children...)
	}
	// The researcher's test child, for previews.
	researcher := &family{user: userRow{Email: ResearcherEmail}}
	previewKid := &kid{birthday: g.now.AddDate(0, -10, 0).Truncate(24 * time.Hour)}
	previewKid.row = childRow{UUID: PreviewChildUUID, UserEmail: ResearcherEmail, GivenName: "Test child",
		Birthday: day(previewKid.birthday), Gender: accounts.GenderNotAnswered, LanguagesSpoken: 1,
		AdditionalInformation: "Not a real child: for previewing studies.", CreatedAt: g.now.Add(-window - 10*24*time.Hour)}
	researcher.children = []*kid{previewKid}
	researcher.demo = g.stream(streamResearcher, 0).demographics(researcher, researcher.children)
	researcher.demo.CreatedAt = previewKid.row.CreatedAt

	// The sessions: who and when first, then each in time order.
	type session struct {
		g        *gen
		kid      *kid
		study    studyRef
		internal bool
		preview  bool
		at       time.Time
	}
	previews := max(1, n/25)
	sessions := make([]session, 0, n)
	for i := range n {
		g := g.stream(streamSession, i)
		s := session{g: g, kid: pick(g, kids)}
		switch {
		case i < previews:
			s.kid, s.preview, s.internal = previewKid, true, i < previews*3/4 || previews == 1
		default:
			s.internal = i < previews+(n-previews)*7/10
		}
		s.study = external
		if s.internal {
			s.study = internal
		}
		for try := 0; ; try++ {
			// Sessions happen once the child is six weeks old, and at least half an hour ago.
			lo := later(g.now.Add(-window), s.kid.birthday.Add(42*24*time.Hour))
			s.at = g.between(lo, g.now.Add(-30*time.Minute)).Truncate(time.Microsecond)
			// Families mostly find studies their child is old enough for (the studies page
			// lists those); now and then an older sibling takes part too.
			if s.preview || try == 3 || s.at.Sub(s.kid.birthday) <= maxAge || g.chance(0.25) {
				break
			}
			s.kid = pick(g, kids)
		}
		sessions = append(sessions, s)
	}
	slices.SortStableFunc(sessions, func(a, b session) int { return a.at.Compare(b.at) })
	for _, s := range sessions {
		var r responseRow
		if s.internal {
			var vs []videoRow
			r, vs = s.g.frameplayerSession(s.study, s.kid, s.at, s.preview)
			p.Videos = append(p.Videos, vs...)
			if r.CompletedConsentFrame {
				p.Rulings = append(p.Rulings, s.g.rulings(r)...)
			}
		} else {
			r = s.g.externalSession(s.study, s.kid, s.at, s.preview)
		}
		p.Responses = append(p.Responses, r)
		if s.kid.first.IsZero() {
			s.kid.first = s.at
		}
		s.kid.last = r.UpdatedAt
	}
	p.Feedback = g.stream(streamFeedback, 0).feedback(p, n)

	// Accounts before their sessions: the family signs up, adds children and answers the
	// demographic survey before a child's first session.
	for i, f := range families {
		g := g.stream(streamAccount, i)
		first := time.Time{}
		last := time.Time{}
		for _, k := range f.children {
			if !k.first.IsZero() && (first.IsZero() || k.first.Before(first)) {
				first = k.first
			}
			if k.last.After(last) {
				last = k.last
			}
		}
		if first.IsZero() {
			f.user.CreatedAt = g.between(g.now.Add(-400*24*time.Hour), g.now.Add(-24*time.Hour))
		} else {
			f.user.CreatedAt = g.between(first.Add(-90*24*time.Hour), first.Add(-time.Hour))
		}
		f.user.CreatedAt = f.user.CreatedAt.Truncate(time.Microsecond)
		f.user.LastLoginAt = later(last, f.user.CreatedAt)
		f.demo.CreatedAt = f.user.CreatedAt.Add(g.seconds(60, 600)).Truncate(time.Microsecond)
		for _, k := range f.children {
			lo := f.user.CreatedAt.Add(2 * time.Minute)
			hi := g.now
			if !k.first.IsZero() {
				hi = k.first.Add(-10 * time.Minute)
			}
			at := later(lo, k.birthday.Add(g.seconds(3*86400, 30*86400)))
			if at.After(hi) {
				at = g.between(lo, hi)
			}
			k.row.CreatedAt = at.Truncate(time.Microsecond)
		}
		p.Users = append(p.Users, f.user)
		p.Demographics = append(p.Demographics, f.demo)
		for _, k := range f.children {
			p.Children = append(p.Children, k.row)
		}
	}
	p.Children = append(p.Children, previewKid.row)
	p.Demographics = append(p.Demographics, researcher.demo)
	return p
}

// family generates family number i with its children and demographics.
func (g *gen) family(i int) *family {
	given := pick(g, parentNames)
	f := &family{user: userRow{UUID: g.uuid(), Email: fmt.Sprintf("family-%03d@%s", i, FamilyDomain),
		GivenName: given, FamilyName: pick(g, familyNames), Nickname: given,
		EmailNewStudies: g.chance(0.8), EmailNextSession: g.chance(0.9)}}
	count := 1 + g.weighted(55, 35, 10)
	twins := count >= 2 && g.chance(0.08)
	for c := range count {
		k := &kid{}
		if twins && c == 1 {
			k.birthday = f.children[0].birthday
		} else {
			// Three months to six years old today.
			k.birthday = g.between(g.now.AddDate(-6, 0, 0), g.now.AddDate(0, -3, 0)).Truncate(24 * time.Hour)
		}
		var conditions []string
		if twins && c <= 1 {
			conditions = append(conditions, "multiple_birth")
		}
		if g.chance(0.04) {
			conditions = append(conditions, pick(g, []string{"autism_spectrum_disorder", "hearing_impairment", "dyslexia"}))
		}
		conds, err := accounts.ParseConditions(conditions)
		if err != nil {
			panic(err)
		}
		langs, err := accounts.ParseLanguages(g.languages())
		if err != nil {
			panic(err)
		}
		k.row = childRow{UUID: g.uuid(), UserEmail: f.user.Email, GivenName: pick(g, childNames),
			Birthday: day(k.birthday), Gender: []string{accounts.GenderMale, accounts.GenderFemale,
				accounts.GenderNotAnswered}[g.weighted(48, 48, 4)],
			GestationalAgeAtBirth: g.gestationalAge(), ExistingConditions: int64(conds), LanguagesSpoken: int64(langs)}
		if g.chance(0.1) {
			k.row.AdditionalInformation = pick(g, childNotes)
		}
		f.children = append(f.children, k)
	}
	f.demo = g.demographics(f, f.children)
	return f
}

// gestationalAge is on Lookit's scale (shared/accounts): mostly 37 weeks or more.
func (g *gen) gestationalAge() *int16 {
	var v int16
	switch g.weighted(8, 35, 25, 14, 8, 7, 3) {
	case 0:
		return nil // not sure, or no answer
	case 1:
		v = 17 // 40 weeks or more
	case 2:
		v = 16
	case 3:
		v = 15
	case 4:
		v = 14
	case 5:
		v = int16(10 + g.r.IntN(4))
	default:
		v = int16(g.r.IntN(10))
	}
	return &v
}

func (g *gen) languages() []string {
	switch g.weighted(70, 18, 7, 5) {
	case 0:
		return []string{"en"}
	case 1:
		return []string{"en", pick(g, otherLangs)}
	case 2:
		return []string{pick(g, otherLangs)}
	default:
		return []string{"en", "es", pick(g, otherLangs)}
	}
}

// demographics answers the survey with the allowed choices (shared/accounts).
func (g *gen) demographics(f *family, kids []*kid) demographicsRow {
	// One of the field's choices, weighted in their order.
	choice := func(field string, weights ...int) string {
		return accounts.DemographicChoices(field)[g.weighted(weights...)].Value
	}
	d := demographicsRow{UserEmail: f.user.Email, ChildBirthdays: []string{}}
	for _, k := range kids {
		d.ChildBirthdays = append(d.ChildBirthdays, day(k.birthday))
	}
	slices.Sort(d.ChildBirthdays)
	d.NumberOfChildren = strconv.Itoa(len(kids) + g.weighted(85, 12, 3))
	d.NumberOfGuardians = []string{"2", "1", "3", "varies"}[g.weighted(75, 18, 3, 4)]
	if d.NumberOfGuardians == "varies" {
		d.NumberOfGuardiansExplanation = "Shared custody: two households."
	}
	races := accounts.DemographicChoices("us_race_ethnicity_identification")
	weights := []int{52, 16, 12, 10, 2, 4, 1, 3}
	first := g.weighted(weights...)
	chosen := map[int]bool{first: true}
	if g.chance(0.12) {
		chosen[g.weighted(weights...)] = true
	}
	d.USRaceEthnicityIdentification = []string{}
	for i, c := range races { // in Lookit's choice order, as the survey stores them
		if chosen[i] {
			d.USRaceEthnicityIdentification = append(d.USRaceEthnicityIdentification, c.Value)
		}
	}
	// <18 18-21 22-24 25-29 30-34 35-39 40-44 45-49 50s 60s >70
	d.Age = choice("age", 0, 1, 3, 18, 34, 28, 12, 3, 1, 0, 0)
	// m f o na
	d.Gender = choice("gender", 24, 72, 1, 3)
	// some hs col assoc bach grad prof
	d.EducationLevel = choice("education_level", 2, 8, 10, 8, 30, 15, 27)
	incomes := accounts.DemographicChoices("annual_income")
	if g.chance(0.08) {
		d.AnnualIncome = "na"
	} else {
		d.AnnualIncome = incomes[3+g.r.IntN(len(incomes)-4)].Value // 15000 to over 200000
	}
	if g.chance(0.8) {
		d.Country, d.State = accounts.CountryUS, pick(g, states)
	} else {
		d.Country = pick(g, countries)
	}
	d.Density = choice("density", 40, 45, 15)
	d.LookitReferrer = pick(g, referrers)
	if g.chance(0.05) {
		d.AdditionalComments = "We are happy to do more studies!"
	}
	return d
}

// frameplayerSession is one session of the frameplayer study as the runner saved it, and the
// video rows of its recordings (the Pipe or upload hooks' work).
func (g *gen) frameplayerSession(st studyRef, k *kid, at time.Time, preview bool) (responseRow, []videoRow) {
	r := responseRow{UUID: g.uuid(), StudyID: st.ID, ChildUUID: k.row.UUID, IsPreview: preview, CreatedAt: at}
	method := "recordrtc"
	bucket, ext := videos.BucketRecorder, ".webm"
	if g.now.Sub(at) > pipeBefore {
		method, bucket, ext = "pipe", videos.BucketPipe, ".mp4"
	}
	r.RecordingMethod = &method
	r.Completed = g.chance(completedShare)
	frames := len(Frames)
	if !r.Completed {
		frames = g.weighted(2, 3, 4, 3, 2) // left before the end: no frame saved, or up to the last trial
	}
	withdrawn := r.Completed && g.chance(withdrawalShare)
	r.withdrawn = withdrawn
	cond := g.r.IntN(4)
	side, stimulus := []string{"left", "right"}[cond%2], []string{"ramp", "ball"}[cond/2]
	r.Conditions = mustMarshal(map[string]any{conditionsKey: map[string]any{"conditionNum": cond,
		"parameterSet": map[string]string{"SIDE": side, "STIMULUS": stimulus}}})

	var vs []videoRow
	expData := map[string]any{}
	r.Sequence = []string{}
	t := at.Add(g.seconds(2, 6)) // the runner loads
	for _, id := range Frames[:frames] {
		kind := frameKinds[id]
		var dur time.Duration
		switch id {
		case frameConfig:
			dur = g.seconds(8, 60)
		case frameConsent:
			dur = g.seconds(30, 120)
		case frameExit:
			dur = g.seconds(25, 150)
		default:
			dur = g.seconds(18, 32)
		}
		start, end := t, t.Add(dur)
		frame := map[string]any{"frameType": "DEFAULT", "generatedProperties": nil, "frameDuration": round(dur.Seconds(), 3)}
		event := func(name string, when time.Time) map[string]any {
			return map[string]any{"eventType": kind + ":" + name, "timestamp": jsTime(when)}
		}
		events := []map[string]any{}
		last := event // the event that ends the frame
		if id == frameConsent || id == frameTrial1 || id == frameTrial2 {
			consent := id == frameConsent
			rec := start.Add(g.seconds(0.4, 1.5))
			ms := rec.UnixMilli()
			name := fmt.Sprintf("videoStream_%s_%s_%s_%d_%d", st.UUID, id, r.UUID, ms, g.r.IntN(1000))
			videoID := name // the runner's name, which Pipe's path drops the consent- prefix from
			if consent {
				videoID = "consent-" + name
			}
			key := videoID + ext
			var pipeName *string
			var pipeID *int64
			if method == "pipe" {
				key = name + ext
				pn, pid := g.alnum(24)+ext, 10_000_000+g.r.Int64N(90_000_000)
				pipeName, pipeID = &pn, &pid
			}
			// A recording frame's events all say where in its video they happened.
			recorded := func(name string, when time.Time) map[string]any {
				e := event(name, when)
				e["videoId"] = videoID
				e["streamTime"] = round(max(0, when.Sub(rec).Seconds()), 1)
				if pipeName != nil {
					e["pipeId"] = (*pipeName)[:24]
				}
				return e
			}
			last = recorded
			events = append(events, recorded("recorderReady", start.Add(200*time.Millisecond)),
				recorded("startRecording", rec))
			if !consent {
				events = append(events, recorded("videoStarted", rec.Add(g.seconds(0.8, 1.5))),
					recorded("videoStopped", end.Add(-g.seconds(1.5, 3))))
				frame["videosShown"] = []string{"https://example.org/stimuli/" + stimulus + "_" + side + ".webm"}
			} else {
				frame["frameType"] = "CONSENT"
			}
			events = append(events, recorded("stoppingCapture", end.Add(-time.Second)))
			frame["videoId"], frame["videoList"] = videoID, []string{videoID}
			// Session video of a withdrawn family is deleted; consent video is kept.
			if consent || !withdrawn {
				vs = append(vs, videoRow{ResponseUUID: r.UUID, S3Timestamp: time.UnixMilli(ms).UTC(),
					CreatedAt: end.Add(g.seconds(2, 30)).Truncate(time.Microsecond), PipeName: pipeName, PipeNumericID: pipeID,
					FrameID: id, FullName: key, Bucket: bucket, IsConsentFootage: consent})
			}
		}
		if id == frameExit {
			frame["frameType"] = "EXIT"
			// The parent enters the birthday; now and then not quite the registered one.
			birth := k.birthday
			if g.chance(0.05) {
				birth = birth.AddDate(0, 0, pick(g, []int{-1, 1, 30, -365}))
			}
			frame["birthDate"] = jsTime(birth.Add(time.Duration(4+g.r.IntN(5)) * time.Hour)) // local midnight
			frame["useOfMedia"] = []string{"private", "scientific", "public"}[g.weighted(30, 40, 30)]
			frame["databraryShare"] = []string{"yes", "no"}[g.weighted(60, 40)]
			frame["withdrawal"] = withdrawn
			frame["feedback"] = ""
			if g.chance(0.2) {
				frame["feedback"] = pick(g, exitFeedback)
			}
		}
		frame["eventTimings"] = append(events, last("nextFrame", end))
		expData[id] = frame
		r.Sequence = append(r.Sequence, id)
		t = end.Add(g.seconds(0.2, 1))
	}
	r.ExpData = mustMarshal(expData)
	r.CompletedConsentFrame = slices.Contains(r.Sequence, frameConsent)
	r.GlobalEventTimings = json.RawMessage(`[]`)
	if !r.Completed {
		t = t.Add(g.seconds(1, 20))
		r.GlobalEventTimings = mustMarshal([]map[string]any{{"eventType": "exitEarly", "timestamp": jsTime(t),
			"exitType": "browserNavigationAttempt", "lastPageSeen": frames}})
	}
	r.UpdatedAt = t.Truncate(time.Microsecond)
	if r.Completed && !preview {
		if g.chance(0.15) {
			r.PaymentStatus = pick(g, paymentStatuses)
		}
		if g.chance(0.03) {
			r.SessionStatus = "follow_up"
		}
		r.Star = g.chance(0.06)
	}
	return r, vs
}

// externalSession is a family following the external study's link: a response without data.
func (g *gen) externalSession(st studyRef, k *kid, at time.Time, preview bool) responseRow {
	r := responseRow{UUID: g.uuid(), StudyID: st.ID, ChildUUID: k.row.UUID, IsPreview: preview, CreatedAt: at,
		UpdatedAt: at, ExpData: json.RawMessage(`{}`), Conditions: json.RawMessage(`{}`),
		GlobalEventTimings: json.RawMessage(`[]`), Sequence: []string{}}
	if !preview {
		if g.chance(0.3) {
			r.SessionStatus = pick(g, sessionStatuses)
		}
		if g.chance(0.15) {
			r.PaymentStatus = pick(g, paymentStatuses)
		}
		r.Star = g.chance(0.04)
	}
	return r
}

// rulings is the demo researcher's consent rulings on a session past its consent frame: recent
// ones mostly waiting, older ones mostly accepted, a few rejected, now and then a second look.
func (g *gen) rulings(r responseRow) []rulingRow {
	age := g.now.Sub(r.CreatedAt)
	at := func(after time.Time, lo, hi float64) time.Time {
		t := after.Add(g.seconds(lo, hi))
		if limit := g.now.Add(-5 * time.Minute); t.After(limit) {
			t = g.between(after, limit)
		}
		return t.Truncate(time.Microsecond)
	}
	ruling := func(action, comments string, when time.Time) rulingRow {
		return rulingRow{ResponseUUID: r.UUID, Action: action, ArbiterEmail: ResearcherEmail, Comments: comments, CreatedAt: when}
	}
	// Pending (no ruling yet): most of the last three days' sessions, and a few older ones.
	if age < 3*24*time.Hour && g.chance(0.75) || g.chance(0.05) {
		return nil
	}
	switch {
	case g.chance(0.07):
		return []rulingRow{ruling("rejected", pick(g, rejectNotes), at(r.UpdatedAt, 3600, 5*86400))}
	case g.chance(0.05):
		first := ruling("pending", "Audio is faint; asked the family to confirm by email.", at(r.UpdatedAt, 3600, 2*86400))
		return []rulingRow{first, ruling("accepted", "The family confirmed consent by email.", at(first.CreatedAt, 3600, 3*86400))}
	default:
		return []rulingRow{ruling("accepted", "", at(r.UpdatedAt, 3600, 5*86400))}
	}
}

// feedback is the researcher's notes to a few families on accepted, completed sessions.
func (g *gen) feedback(p *plan, n int) []feedbackRow {
	accepted := map[string]time.Time{}
	for _, ru := range p.Rulings {
		if ru.Action == "accepted" {
			accepted[ru.ResponseUUID] = ru.CreatedAt
		} else {
			delete(accepted, ru.ResponseUUID)
		}
	}
	var internal, external []int
	for i, r := range p.Responses {
		switch {
		case r.IsPreview || r.withdrawn || !r.Completed && r.RecordingMethod != nil:
		case r.RecordingMethod == nil:
			external = append(external, i)
		case !accepted[r.UUID].IsZero():
			internal = append(internal, i)
		}
	}
	var out []feedbackRow
	take := func(from []int, count int) {
		g.r.Shuffle(len(from), func(i, j int) { from[i], from[j] = from[j], from[i] })
		for _, i := range from[:min(count, len(from))] {
			r := p.Responses[i]
			after := later(r.UpdatedAt, accepted[r.UUID])
			when := after.Add(g.seconds(3600, 4*86400))
			if limit := g.now.Add(-time.Minute); when.After(limit) {
				when = g.between(after, limit)
			}
			out = append(out, feedbackRow{ResponseUUID: r.UUID, ResearcherEmail: ResearcherEmail,
				Comment: pick(g, researcherFeedback), CreatedAt: when.Truncate(time.Microsecond)})
		}
	}
	take(internal, max(1, n/40))
	take(external, n/150)
	slices.SortFunc(out, func(a, b feedbackRow) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}
