package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/downloads"
	"lookit.dev/platform/shared/postgres/db"
)

// downloadPageSize is how many responses a download reads per query. A page of responses with
// 10 KB of exp_data each is a few megabytes, which bounds what a download holds at once.
const downloadPageSize = 250

// Downloads reads a study's responses for the download writers (shared/downloads), a page at a
// time, so a download's memory does not grow with the study.
type Downloads struct {
	Pool *pgxpool.Pool
}

// DownloadScope is which responses a download holds. The route has authorized the requester
// for the study and the kind of data; the queries add the data rules of the response views.
type DownloadScope struct {
	StudyID  int64
	Preview  bool
	Response string // one response's UUID, for a single-response download; "" for all
}

func (s DownloadScope) responseUUID() (*string, error) {
	if s.Response == "" {
		return nil, nil
	}
	if _, err := uuid.Parse(s.Response); err != nil {
		return nil, apperr.Field("response", "not a response UUID")
	}
	return &s.Response, nil
}

// StudyInfo returns what the download files say about the study.
func (d *Downloads) StudyInfo(ctx context.Context, studyID int64) (downloads.StudyInfo, downloads.Study, error) {
	r, err := db.New(d.Pool).DownloadStudy(ctx, studyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return downloads.StudyInfo{}, downloads.Study{}, apperr.New(apperr.NotFound, "no such study")
	}
	if err != nil {
		return downloads.StudyInfo{}, downloads.Study{}, fmt.Errorf("postgres: download study: %w", err)
	}
	return studyInfoOf(r)
}

func studyInfoOf(r db.DownloadStudyRow) (downloads.StudyInfo, downloads.Study, error) {
	id, err := uuid.Parse(r.Uuid)
	if err != nil {
		return downloads.StudyInfo{}, downloads.Study{}, fmt.Errorf("postgres: study uuid: %w", err)
	}
	salt, err := uuid.Parse(r.Salt)
	if err != nil {
		return downloads.StudyInfo{}, downloads.Study{}, fmt.Errorf("postgres: study salt: %w", err)
	}
	info := downloads.StudyInfo{ID: r.ID, UUID: id, Name: r.Name, ShortDescription: r.ShortDescription,
		Purpose: r.Purpose, Criteria: r.Criteria, Duration: r.Duration, CompensationDescription: r.CompensationDescription,
		ContactInfo: r.ContactInfo, Structure: json.RawMessage(r.Structure), UseGenerator: r.UseGenerator, Generator: r.Generator}
	return info, downloads.Study{UUID: id, Salt: salt, HashDigits: int(r.HashDigits)}, nil
}

// Count returns how many responses the download of scope would hold.
func (d *Downloads) Count(ctx context.Context, scope DownloadScope) (int, error) {
	one, err := scope.responseUUID()
	if err != nil {
		return 0, err
	}
	n, err := db.New(d.Pool).DownloadCount(ctx, db.DownloadCountParams{StudyID: scope.StudyID, Preview: scope.Preview, ResponseUuid: one})
	if err != nil {
		return 0, fmt.Errorf("postgres: download count: %w", err)
	}
	return int(n), nil
}

// Read calls fn with a Source of scope's responses. Every pass the writers make runs in one
// read-only repeatable-read transaction, so each sees the same responses even while families
// keep taking part. progress, if not nil, is called after each page with the number of responses
// read so far in the current pass.
func (d *Downloads) Read(ctx context.Context, scope DownloadScope, progress func(pass, done int),
	fn func(ctx context.Context, src downloads.Source) error) error {
	one, err := scope.responseUUID()
	if err != nil {
		return err
	}
	_, study, err := d.StudyInfo(ctx, scope.StudyID)
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, d.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return fn(ctx, &responseSource{q: db.New(tx), scope: scope, one: one, study: study, progress: progress})
	})
}

// responseSource is a downloads.Source over one transaction.
type responseSource struct {
	q        *db.Queries
	scope    DownloadScope
	one      *string
	study    downloads.Study
	progress func(pass, done int)
	passes   int
	r        downloads.Response // reused from row to row: writers keep nothing of it
}

// Each reads the responses page by page in the pass's keyset order and calls fn for each. The
// next page is fetched while fn works through the current one (the transaction's connection is
// used by one goroutine at a time: the fetch), so the database and the writer overlap.
func (s *responseSource) Each(ctx context.Context, pass downloads.Pass, fn func(*downloads.Response) error) error {
	s.passes++
	type page struct {
		rows []db.DownloadResponsesByIDRow
		err  error
	}
	fetch := func(afterChild, afterID int64) page {
		if pass.Order == downloads.ByChild {
			rows, err := s.q.DownloadResponsesByChild(ctx, db.DownloadResponsesByChildParams{StudyID: s.scope.StudyID,
				Preview: s.scope.Preview, ResponseUuid: s.one, ExitOnly: pass.ExitOnly, AfterChild: afterChild, AfterID: afterID,
				Lim: downloadPageSize})
			out := make([]db.DownloadResponsesByIDRow, len(rows))
			for i, r := range rows {
				out[i] = db.DownloadResponsesByIDRow(r)
			}
			return page{out, err}
		}
		rows, err := s.q.DownloadResponsesByID(ctx, db.DownloadResponsesByIDParams{StudyID: s.scope.StudyID,
			Preview: s.scope.Preview, ResponseUuid: s.one, ExitOnly: pass.ExitOnly, AfterID: afterID, Lim: downloadPageSize})
		return page{rows, err}
	}
	cur := fetch(0, 0)
	done := 0
	for {
		if cur.err != nil {
			return fmt.Errorf("postgres: download page: %w", cur.err)
		}
		var next chan page
		if len(cur.rows) == downloadPageSize {
			last := cur.rows[len(cur.rows)-1]
			next = make(chan page, 1)
			go func() { next <- fetch(last.ChildID, last.ID) }()
		}
		err := s.each(cur.rows, fn, &done)
		if s.progress != nil && len(cur.rows) > 0 {
			s.progress(s.passes, done)
		}
		if next == nil {
			return err
		}
		cur = <-next // wait for the fetch even after an error: it holds the connection
		if err != nil {
			return err
		}
	}
}

// each calls fn for every row of a page.
func (s *responseSource) each(rows []db.DownloadResponsesByIDRow, fn func(*downloads.Response) error, done *int) error {
	for i := range rows {
		if err := s.fill(&rows[i]); err != nil {
			return err
		}
		rows[i] = db.DownloadResponsesByIDRow{} // let the page's bytes go as the pass moves on
		if err := fn(&s.r); err != nil {
			return err
		}
		*done++
	}
	return nil
}

// fill sets s.r from a row.
func (s *responseSource) fill(row *db.DownloadResponsesByIDRow) error {
	id, err := uuid.Parse(row.Uuid)
	if err != nil {
		return fmt.Errorf("postgres: response uuid: %w", err)
	}
	r := &s.r
	*r = downloads.Response{
		ID: row.ID, UUID: id, CreatedAt: row.CreatedAt.Time, Completed: row.Completed, Eligibility: row.Eligibility,
		IsPreview: row.IsPreview, Sequence: row.Sequence, Conditions: row.Conditions, ExpData: row.ExpData,
		GlobalEventTimings: row.GlobalEventTimings, PaymentStatus: row.ResearcherPaymentStatus,
		SessionStatus: row.ResearcherSessionStatus, Star: row.ResearcherStar, Study: s.study,
		Child: accounts.Child{UUID: row.ChildUuid, GivenName: row.ChildName, Birthday: accounts.DateOf(row.ChildBirthday.Time),
			Gender: row.ChildGender, GenderSelfDescribe: row.ChildGenderSelfDescribe, GestationalAge: row.ChildGestationalAge,
			AdditionalInformation: row.ChildAdditionalInformation, Conditions: accounts.Conditions(row.ChildConditions),
			Languages: accounts.Languages(row.ChildLanguages), Deleted: row.ChildDeleted},
	}
	if r.Participant.UUID, err = uuid.Parse(row.UserUuid); err != nil {
		return fmt.Errorf("postgres: participant uuid: %w", err)
	}
	r.Participant.Nickname = row.Nickname
	if row.Ruling != "" {
		r.Consent = &downloads.ConsentRuling{Action: row.Ruling, ArbiterName: row.ArbiterName, Comments: row.RulingComments,
			CreatedAt: row.RuledAt.Time}
	}
	if row.DemoUuid != "" {
		r.Demographics = demographicsOf(row)
	}
	return nil
}

func demographicsOf(row *db.DownloadResponsesByIDRow) *accounts.Demographics {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	d := &accounts.Demographics{
		UUID: row.DemoUuid, NumberOfChildren: str(row.DemoNumberOfChildren), NumberOfGuardians: str(row.DemoNumberOfGuardians),
		NumberOfGuardiansExplanation: str(row.DemoGuardiansExplanation), USRaceEthnicityIdentification: row.DemoRace,
		USRaceEthnicityIdentificationDescribe: str(row.DemoRaceDescribe), Age: str(row.DemoAge), Gender: str(row.DemoGender),
		GenderSelfDescribe: str(row.DemoGenderSelfDescribe), EducationLevel: str(row.DemoEducationLevel),
		AnnualIncome: str(row.DemoAnnualIncome), Country: str(row.DemoCountry), State: str(row.DemoState),
		Density: str(row.DemoDensity), LookitReferrer: str(row.DemoLookitReferrer),
		AdditionalComments: str(row.DemoAdditionalComments), Extra: json.RawMessage(row.DemoExtra), CreatedAt: row.DemoCreatedAt.Time,
	}
	d.ChildBirthdays = make([]accounts.Date, 0, len(row.DemoChildBirthdays))
	for _, b := range row.DemoChildBirthdays {
		d.ChildBirthdays = append(d.ChildBirthdays, accounts.DateOf(b.Time))
	}
	return d
}
