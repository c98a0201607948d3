package downloads

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/protocol"
)

// Response is everything a download row needs about one response, as plain values the database
// layer fills from the responses row and the rows it points to. Only one is needed at a time.
type Response struct {
	ID        int64     // responses.id
	UUID      uuid.UUID // responses.uuid
	CreatedAt time.Time // responses.created_at, Lookit's date_created
	Completed bool      // responses.completed
	// Eligibility is responses.eligibility: "Eligible" or Ineligible_… codes.
	Eligibility []string
	IsPreview   bool     // responses.is_preview
	Sequence    []string // responses.sequence: the frame ids shown, in order
	// Conditions, ExpData and GlobalEventTimings are the jsonb columns as PostgreSQL returns
	// them; their member order is the order of columns and rows, as it is for Lookit, which
	// reads the same jsonb. Empty means the column default ({}, {} and []).
	Conditions json.RawMessage
	// ExpData is an object keyed by frame id, or for jsPsych a list of trials. Lookit switches
	// on the study type where this package switches on that shape, which says the same.
	ExpData            json.RawMessage
	GlobalEventTimings json.RawMessage

	PaymentStatus string // responses.researcher_payment_status
	SessionStatus string // responses.researcher_session_status
	Star          bool   // responses.researcher_star

	Consent     *ConsentRuling // the newest consent_rulings row; nil when there is none
	Study       Study
	Participant Participant    // the users row of the child's parent
	Child       accounts.Child // the children row; UUID must parse as a UUID
	// Demographics is the demographic_data row of responses.demographic_snapshot_id; nil when
	// the snapshot is gone (ON DELETE SET NULL).
	Demographics *accounts.Demographics
}

// ConsentRuling is the newest consent_rulings row of a response.
type ConsentRuling struct {
	Action      string    // accepted, rejected or pending
	ArbiterName string    // the arbiter's full name (Lookit: arbiter.get_full_name()); "" if the account is gone
	Comments    string    // consent_rulings.comments
	CreatedAt   time.Time // consent_rulings.created_at
}

// Study is what rows need of the studies row: its id and the secrets of its hashed ids.
type Study struct {
	UUID       uuid.UUID // studies.uuid
	Salt       uuid.UUID // studies.salt
	HashDigits int       // studies.hash_digits
}

// Participant is what rows need of the child's parent (users row).
type Participant struct {
	UUID     uuid.UUID // users.uuid
	Nickname string    // users.nickname
}

// ResponseError reports a response that cannot be written. Nothing of its row has been
// written, so a caller may skip it and go on with the next response.
type ResponseError struct {
	ID   int64
	UUID uuid.UUID
	Err  error
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("downloads: response %d (%s): %v", e.ID, e.UUID, e.Err)
}

func (e *ResponseError) Unwrap() error { return e.Err }

func responseError(r *Response, format string, args ...any) error {
	return &ResponseError{ID: r.ID, UUID: r.UUID, Err: fmt.Errorf(format, args...)}
}

// hash is a per-study hashed id (Lookit's hash_id), as every download shows it.
func (s Study) hash(id uuid.UUID) string { return hashedid.Of(id, s.UUID, s.Salt, s.HashDigits) }

func (r *Response) childUUID() (uuid.UUID, error) {
	id, err := uuid.Parse(r.Child.UUID)
	if err != nil {
		return uuid.UUID{}, responseError(r, "child uuid %q: %w", r.Child.UUID, err)
	}
	return id, nil
}

// parseExpData decodes exp_data, or names the response.
func (r *Response) parseExpData() (value, error) {
	v, err := parseJSON(r.ExpData, value{kind: objectKind})
	if err != nil {
		return value{}, responseError(r, "exp_data: %w", err)
	}
	return v, nil
}

// exitData returns the data of the response's exit survey, nil when it has none. Lookit's
// Response.exit_frame_properties reads the last frame of exp_data whose frameType is "EXIT"; for
// a jsPsych response (exp_data a list of trials) the last trial whose chs_type is "exit", whose
// answers are in its "response" object (as the post-save hooks read them, reference §4.3).
func exitData(expData *value) *value {
	var exit *value
	switch expData.kind {
	case objectKind:
		for i := range expData.elems {
			frame := &expData.elems[i]
			if t, ok := frame.member("frameType"); ok && t.kind == stringKind && t.s == protocol.ExpDataFrameTypeExit {
				exit = frame
			}
		}
	case arrayKind:
		for i := range expData.elems {
			trial := &expData.elems[i]
			if t, ok := trial.member("chs_type"); ok && t.kind == stringKind && t.s == "exit" {
				exit = nil
				if answers, ok := trial.member("response"); ok && answers.kind == objectKind {
					exit = answers
				}
			}
		}
	}
	return exit
}

// exitAnswer is exit_frame_properties(name): the exit survey's member name, None when absent.
func exitAnswer(exit *value, name string) value {
	if exit == nil {
		return nullValue
	}
	if v, ok := exit.member(name); ok {
		return *v
	}
	return nullValue
}

// birthdateDifference is Lookit's Response.birthdate_difference: the days from the child's
// registered birthday to the exit survey's birthDate (its first 10 characters read as
// %Y-%m-%d), None when either is missing or the text does not parse.
func birthdateDifference(birthDate value, birthday accounts.Date) value {
	if !birthDate.truthy() || !birthday.Valid() || birthDate.kind != stringKind {
		return nullValue
	}
	runes := []rune(birthDate.s)
	if len(runes) > 10 {
		runes = runes[:10]
	}
	d, ok := parsePyDate(string(runes))
	if !ok {
		return nullValue
	}
	return intValue(int64(d.DaysSince(birthday)))
}

// parsePyDate is Python's datetime.strptime(s, "%Y-%m-%d").date(): four digits, then a month
// and a day that may drop their leading zero (the day may also be space-padded), and nothing
// after; the date must exist. Only ASCII digits are taken (Python's \d takes any Unicode digit).
func parsePyDate(s string) (accounts.Date, bool) {
	digit := func(i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			if s[i] != ' ' {
				n = n*10 + int(s[i]-'0')
			}
		}
		return n
	}
	if !(digit(0) && digit(1) && digit(2) && digit(3)) || len(s) < 5 || s[4] != '-' {
		return accounts.Date{}, false
	}
	year := num(0, 4)
	// %m is 1[0-2]|0[1-9]|[1-9]: the first alternative that matches wins.
	i := 5
	switch {
	case i+1 < len(s) && s[i] == '1' && s[i+1] >= '0' && s[i+1] <= '2':
		i += 2
	case i+1 < len(s) && s[i] == '0' && s[i+1] >= '1' && s[i+1] <= '9':
		i += 2
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i++
	default:
		return accounts.Date{}, false
	}
	month := num(5, i)
	if i >= len(s) || s[i] != '-' {
		return accounts.Date{}, false
	}
	i++
	// %d is 3[01]|[12]\d|0[1-9]|[1-9]| [1-9], and the match must end the text.
	j := i
	switch {
	case j+1 < len(s) && s[j] == '3' && (s[j+1] == '0' || s[j+1] == '1'):
		j += 2
	case j+1 < len(s) && (s[j] == '1' || s[j] == '2') && digit(j+1):
		j += 2
	case j+1 < len(s) && s[j] == '0' && s[j+1] >= '1' && s[j+1] <= '9':
		j += 2
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		j++
	case j+1 < len(s) && s[j] == ' ' && s[j+1] >= '1' && s[j+1] <= '9':
		j += 2
	default:
		return accounts.Date{}, false
	}
	if j != len(s) {
		return accounts.Date{}, false
	}
	d := accounts.NewDate(year, time.Month(month), num(i, j))
	return d, d.Valid()
}

// RoundAge is Lookit's round_age (exp/utils.py): round(days/10)*10 up to 360 days, else
// round(days/30)*30, with Python 3's round, which sends halves to the even neighbour
// (375 days → 360, 405 → 420; 25 → 20, 35 → 40).
func RoundAge(days int) int {
	unit := 10
	if days > 360 {
		unit = 30
	}
	q := days / unit
	if days%unit != 0 && days < 0 {
		q-- // floor division
	}
	switch rest := 2 * (days - q*unit); {
	case rest > unit:
		q++
	case rest == unit && q%2 != 0:
		q++
	}
	return q * unit
}

// pyDatetime is Python's str() of an aware UTC datetime, as Lookit writes date_created:
// "2024-05-01 17:09:58.123456+00:00", without the fraction when it is zero.
func pyDatetime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// cell is one column value of a row.
type cell struct {
	id string
	v  value
}

// responseRow holds one response's column values, reused from row to row.
type responseRow struct {
	cells   []cell // in responseColumns order
	expData value
}

// build computes every response column of r, in responseColumns order, as the Python values
// Lookit's extractors return (exp/views/responses_data.py RESPONSE_COLUMNS).
func (row *responseRow) build(r *Response) error { return row.buildColumns(r, true) }

// buildColumns is build; without withData, exp_data and conditions are not read and the
// columns from them are None (for files without them).
func (row *responseRow) buildColumns(r *Response, withData bool) error {
	expData, conditions := value{kind: objectKind}, value{kind: objectKind}
	if withData {
		var err error
		if expData, err = r.parseExpData(); err != nil {
			return err
		}
		if conditions, err = parseJSON(r.Conditions, value{kind: objectKind}); err != nil {
			return responseError(r, "conditions: %w", err)
		}
	}
	childID, err := r.childUUID()
	if err != nil {
		return err
	}
	exit := exitData(&expData)
	created := accounts.DateOf(r.CreatedAt.UTC())
	birthday := r.Child.Birthday

	c := row.cells[:0]
	add := func(id string, v value) { c = append(c, cell{id, v}) }
	str := func(id, s string) { add(id, stringValue(s)) }

	str(colResponseID, strconv.FormatInt(r.ID, 10)) // str(resp.id): text, so quoted
	str(colResponseUUID, r.UUID.String())
	str(colResponseDateCreated, pyDatetime(r.CreatedAt))
	add(colResponseCompleted, boolValue(r.Completed))
	// withdrawn: bool(exit_frame_properties("withdrawal")).
	withdrawal := exitAnswer(exit, "withdrawal")
	add(colResponseWithdrawn, boolValue(withdrawal.truthy()))
	add(colResponseEligibility, stringList(r.Eligibility))
	// parent_feedback: exit_frame_properties("feedback"), whatever its type.
	add(colResponseParentFeedback, exitAnswer(exit, "feedback"))
	add(colResponseBirthdateDiff, birthdateDifference(exitAnswer(exit, "birthDate"), birthday))
	// privacy: exit_frame_properties("useOfMedia"); databrary: ("databraryShare").
	add(colResponseVideoPrivacy, exitAnswer(exit, "useOfMedia"))
	add(colResponseDatabrary, exitAnswer(exit, "databraryShare"))
	add(colResponseIsPreview, boolValue(r.IsPreview))

	// most_recent_ruling is "pending" without a ruling; its arbiter, date and comment None.
	if r.Consent == nil {
		str(colConsentRuling, "pending")
		add(colConsentArbiter, nullValue)
		add(colConsentTime, nullValue)
		add(colConsentComment, nullValue)
	} else {
		str(colConsentRuling, r.Consent.Action)
		str(colConsentArbiter, r.Consent.ArbiterName)
		str(colConsentTime, r.Consent.CreatedAt.UTC().Format("2006-01-02 15:04")) // strftime("%Y-%m-%d %H:%M")
		str(colConsentComment, r.Consent.Comments)
	}
	str(colStudyUUID, r.Study.UUID.String())

	str(colParticipantGlobalID, r.Participant.UUID.String())
	str(colParticipantHashedID, r.Study.hash(r.Participant.UUID))
	str(colParticipantNickname, r.Participant.Nickname)
	str(colChildGlobalID, childID.String())
	str(colChildHashedID, r.Study.hash(childID))
	str(colChildName, r.Child.GivenName)
	if birthday.Valid() {
		str(colChildBirthday, birthday.String())
		// age_in_days: (date_created.date() - child.birthday).days, an int.
		age := created.DaysSince(birthday)
		add(colChildAgeInDays, intValue(int64(age)))
		// age_rounded: str(round_age(age)), text.
		str(colChildAgeRounded, strconv.Itoa(RoundAge(age)))
	} else {
		add(colChildBirthday, nullValue)
		add(colChildAgeInDays, nullValue)
		str(colChildAgeRounded, "")
	}
	str(colChildGender, r.Child.Gender)
	str(colChildAgeAtBirth, r.Child.AgeAtBirth())
	str(colChildLanguageList, r.Child.LanguageList())
	str(colChildConditionList, r.Child.ConditionList())
	str(colChildAdditionalInfo, r.Child.AdditionalInformation)

	add(colResponseSequence, stringList(r.Sequence))
	add(colResponseConditions, conditionList(conditions))
	str(colResponsePaymentStatus, r.PaymentStatus)
	str(colResponseSessionStatus, r.SessionStatus)
	add(colResponseStar, boolValue(r.Star))
	row.cells = c
	row.expData = expData
	return nil
}

func stringList(items []string) value {
	v := value{kind: arrayKind, elems: make([]value, len(items))}
	for i, s := range items {
		v.elems[i] = stringValue(s)
	}
	return v
}

// conditionList is Lookit's response__conditions: [{"frameName": frame, **conds} for frame,
// conds in conditions.items()]. Lookit fails on conditions that are not a dict of dicts; here
// such values are kept as they are, so no data is lost.
func conditionList(conditions value) value {
	switch conditions.kind {
	case nullKind:
		return value{kind: arrayKind}
	case objectKind:
	default:
		return conditions
	}
	out := value{kind: arrayKind, elems: make([]value, len(conditions.keys))}
	for i, frame := range conditions.keys {
		conds := conditions.elems[i]
		if conds.kind != objectKind {
			out.elems[i] = conds
			continue
		}
		entry := value{kind: objectKind, keys: []string{"frameName"}, elems: []value{stringValue(frame)}}
		for j, k := range conds.keys {
			if k == "frameName" { // a later key overrides the value but not the position
				entry.elems[0] = conds.elems[j]
				continue
			}
			entry.keys = append(entry.keys, k)
			entry.elems = append(entry.elems, conds.elems[j])
		}
		out.elems[i] = entry
	}
	return out
}
