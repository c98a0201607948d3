package downloads

import (
	"errors"
	"fmt"
	"strings"
)

// Column describes one column of a download, as the researcher's column picker and the data
// dictionaries show it. IDs are Lookit's: "<object>__<field>"; in JSON downloads the part before
// "__" names the nested object.
type Column struct {
	ID           string
	Description  string
	Optional     bool // chosen by the researcher (Lookit's data_options / demo_options)
	DefaultOn    bool // an optional column checked by default
	Identifiable bool // choosing it marks the file name as identifiable
}

// Response column ids, in Lookit's order (reference §9.3).
const (
	colResponseID               = "response__id"
	colResponseUUID             = "response__uuid"
	colResponseDateCreated      = "response__date_created"
	colResponseCompleted        = "response__completed"
	colResponseWithdrawn        = "response__withdrawn"
	colResponseEligibility      = "response__eligibility"
	colResponseParentFeedback   = "response__parent_feedback"
	colResponseBirthdateDiff    = "response__birthdate_difference"
	colResponseVideoPrivacy     = "response__video_privacy"
	colResponseDatabrary        = "response__databrary"
	colResponseIsPreview        = "response__is_preview"
	colConsentRuling            = "consent__ruling"
	colConsentArbiter           = "consent__arbiter"
	colConsentTime              = "consent__time"
	colConsentComment           = "consent__comment"
	colStudyUUID                = "study__uuid"
	colParticipantGlobalID      = "participant__global_id"
	colParticipantHashedID      = "participant__hashed_id"
	colParticipantNickname      = "participant__nickname"
	colChildGlobalID            = "child__global_id"
	colChildHashedID            = "child__hashed_id"
	colChildName                = "child__name"
	colChildBirthday            = "child__birthday"
	colChildAgeInDays           = "child__age_in_days"
	colChildAgeRounded          = "child__age_rounded"
	colChildGender              = "child__gender"
	colChildAgeAtBirth          = "child__age_at_birth"
	colChildLanguageList        = "child__language_list"
	colChildConditionList       = "child__condition_list"
	colChildAdditionalInfo      = "child__additional_information"
	colResponseSequence         = "response__sequence"
	colResponseConditions       = "response__conditions"
	colResponsePaymentStatus    = "response__researcher_payment_status"
	colResponseSessionStatus    = "response__researcher_session_status"
	colResponseStar             = "response__researcher_star"
	colDemographicHashedID      = "demographic__hashed_id"
	colDemographicDateCreated   = "demographic__date_created"
	colDemographicNumChildren   = "demographic__number_of_children"
	colDemographicChildAges     = "demographic__child_rounded_ages"
	colDemographicNumGuardians  = "demographic__number_of_guardians"
	colDemographicRace          = "demographic__us_race_ethnicity_identification"
	colDemographicParentAge     = "demographic__parent_age"
	colDemographicParentGender  = "demographic__parent_gender"
	colDemographicEducation     = "demographic__education_level"
	colDemographicIncome        = "demographic__annual_income"
	colDemographicComments      = "demographic__additional_comments"
	colDemographicCountry       = "demographic__country"
	colDemographicState         = "demographic__state"
	colDemographicDensity       = "demographic__density"
	colDemographicLookitReferer = "demographic__lookit_referrer"
)

// responseColumns are the columns of the response overview, the all-responses JSON and (the
// child__ and participant__ ones) the children overview, in Lookit's order. The descriptions are
// ours, written for the data dictionaries.
var responseColumns = []Column{
	{ID: colResponseID, Description: "Short numeric id of this response (a session). Written as text."},
	{ID: colResponseUUID, Description: "Unique id of this response. Video file names contain it, so it matches data to videos."},
	{ID: colResponseDateCreated, Description: "When the session began, in UTC, written like 2024-05-01 17:09:58.123456+00:00."},
	{ID: colResponseCompleted, Description: "True when the family submitted the exit survey. A family may finish the test trials without submitting it, or leave early and still submit it, so check against your own completion criteria."},
	{ID: colResponseWithdrawn, Description: "True when the parent withdrew permission on the exit survey to use video beyond the consent video. Such video is deleted and must not be used."},
	{ID: colResponseEligibility, Description: "Eligibility codes recorded when the session began: Eligible, or one or more of Ineligible_TooYoung, Ineligible_TooOld, Ineligible_CriteriaExpression and Ineligible_Participation. Being a list, it is split into response__eligibility.0, response__eligibility.1, … and this column itself stays empty."},
	{ID: colResponseParentFeedback, Description: "Free-text feedback the parent typed on the exit survey, if any. It may contain names or other identifying details: review it before sharing."},
	{ID: colResponseBirthdateDiff, Description: "Days between the birthdate entered on the exit survey and the registered child's birthday; positive when the exit-survey date is later. Empty when the exit survey gave no birthdate."},
	{ID: colResponseVideoPrivacy, Description: "Video privacy level chosen on the exit survey: private (only people on your IRB protocol may view), scientific (may be shared for scientific or educational purposes) or public (may also be used for publicity); never commercial use. When missing, treat the video as private."},
	{ID: colResponseDatabrary, Description: "Whether the parent agreed on the exit survey to share video on Databrary: yes or no. When missing, treat it as no. With yes, the privacy level also applies to authorized Databrary users."},
	{ID: colResponseIsPreview, Description: "True when a researcher made this response by previewing the study. Do not analyse preview data."},
	{ID: colConsentRuling, Description: "Latest consent ruling on this response: accepted (the consent video shows informed consent), rejected (it does not, e.g. no video or the statement was not read) or pending (not yet reviewed)."},
	{ID: colConsentArbiter, Description: "Name of the researcher who made the latest consent ruling."},
	{ID: colConsentTime, Description: "When the latest consent ruling was made, in UTC, written like 2024-05-02 09:30."},
	{ID: colConsentComment, Description: "Comment left with the latest consent ruling, e.g. that consent was confirmed by email."},
	{ID: colStudyUUID, Description: "Unique id of the study; the same on every row."},
	{ID: colParticipantGlobalID, Optional: true, Identifiable: true, Description: "Unique id of the family's account, the same in every study. It lets anyone link this family across published data sets, so it must be removed before publication; use participant__hashed_id instead when you only analyse this study."},
	{ID: colParticipantHashedID, Description: "Id of the family's account that is specific to this study: the same for siblings and repeat sessions here, different in other studies. It may be published."},
	{ID: colParticipantNickname, Optional: true, Identifiable: true, Description: "Nickname of the family's account, usually a parent's name. Must be removed before publication."},
	{ID: colChildGlobalID, Optional: true, Identifiable: true, Description: "Unique id of the child, the same in every study. It lets anyone link this child across published data sets, so it must be removed before publication; use child__hashed_id instead when you only analyse this study."},
	{ID: colChildHashedID, Description: "Id of the child that is specific to this study: the same for all of this child's sessions here, different in other studies. It may be published."},
	{ID: colChildName, Optional: true, Identifiable: true, Description: "The name the family registered for the child (possibly a nickname or initials). Must be removed before publication."},
	{ID: colChildBirthday, Optional: true, Identifiable: true, Description: "The child's registered birthday, YYYY-MM-DD. Must be removed before publication; publish an age instead."},
	{ID: colChildAgeInDays, Optional: true, Identifiable: true, Description: "The child's exact age in days on the day the session began (UTC). With session dates it reveals the birthday, so jitter or remove it before publication unless no dates are published."},
	{ID: colChildAgeRounded, Optional: true, DefaultOn: true, Description: "The child's age in days on the day the session began, rounded to the nearest 10 days up to 360 days and to the nearest 30 days above (halves round to even). Publishable, though many sessions per child can narrow down the exact age."},
	{ID: colChildGender, Optional: true, DefaultOn: true, Description: "The child's gender as the parent gave it: m (male), f (female), o (other) or na (prefer not to answer)."},
	{ID: colChildAgeAtBirth, Optional: true, DefaultOn: true, Description: "Gestational age at birth: Under 24 weeks, 24 weeks … 39 weeks, 40 or more weeks, or Not sure or prefer not to answer."},
	{ID: colChildLanguageList, Optional: true, DefaultOn: true, Description: "Codes of the languages the child hears or speaks, separated by spaces."},
	{ID: colChildConditionList, Optional: true, DefaultOn: true, Description: "Codes of the characteristics and conditions the parent reported for the child, separated by spaces."},
	{ID: colChildAdditionalInfo, Optional: true, DefaultOn: true, Identifiable: true, Description: "Free text the parent added when registering the child. It may contain names or other identifying details: review it before publication."},
	{ID: colResponseSequence, Description: "The frames shown in this session, in order, split into response__sequence.0, response__sequence.1, …: each is a frame id. Sequences differ with randomization or when a family leaves early. This column itself stays empty."},
	{ID: colResponseConditions, Description: "RESEARCHER: DESCRIBE THE CONDITIONS OF YOUR STUDY. The condition assignments of the session's randomizer frames, split into response__conditions.N.<field>: response__conditions.N.frameName names the randomizer frame; the other fields depend on the randomizer. This column itself stays empty."},
	{ID: colResponsePaymentStatus, Description: "Payment status a researcher set on this response: empty, review, to_pay, do_not_pay or paid."},
	{ID: colResponseSessionStatus, Description: "Session status a researcher set on this response: empty, to_schedule, scheduled, session_attended, session_complete, follow_up, communication_complete or withdrawn_closed."},
	{ID: colResponseStar, Description: "True when a researcher starred this response."},
}

// demographicColumns are the columns of the demographic downloads, in Lookit's order.
var demographicColumns = []Column{
	{ID: colResponseUUID, Description: "Unique id of the response this demographic snapshot belongs to. It matches the response overview and video file names, so remove it before publication if videos are published."},
	{ID: colParticipantGlobalID, Optional: true, Identifiable: true, Description: "Unique id of the family's account, the same in every study. Must be removed before publication; use participant__hashed_id when you only analyse this study."},
	{ID: colParticipantHashedID, Description: "Id of the family's account that is specific to this study. It may be published."},
	{ID: colDemographicHashedID, Description: "Id of this demographic snapshot, specific to this study. A family's snapshot changes whenever they update the survey, so it can differ between a family's sessions."},
	{ID: colDemographicDateCreated, Description: "When the family saved this version of the demographic survey, in UTC, written like 2024-04-02 21:39:03.713283+00:00."},
	{ID: colDemographicNumChildren, Description: "Answer to how many children the family has: 0 to 10, or >10."},
	{ID: colDemographicChildAges, Description: "Ages in days, on the day of this session, of the children whose birthdays the parent gave on the survey (not the registered children), rounded to the nearest 10 days up to 360 and the nearest 30 above; written like [60, 390]."},
	{ID: colDemographicNumGuardians, Description: "Answer to how many parents or guardians the children live with: 1, 2, 3, or varies."},
	{ID: colDemographicRace, Description: "Every category the family identifies with, written as a list like ['white', 'asian']: white, hisp (Hispanic, Latino or Spanish origin), black, asian, native (American Indian or Alaska Native), mideast-naf (Middle Eastern or North African), hawaiian-pac-isl (Native Hawaiian or other Pacific Islander), other."},
	{ID: colDemographicParentAge, Description: "The parent's age band: <18, 18-21, 22-24, 25-29, 30-34, 35-39, 40-44, 45-49, 50s, 60s or >70."},
	{ID: colDemographicParentGender, Description: "The parent's gender: m (male), f (female), o (other) or na (prefer not to answer)."},
	{ID: colDemographicEducation, Description: "The parent's highest education: some (some or attending high school), hs (high school diploma or GED), col (some or attending college), assoc (2-year degree), bach (4-year degree), grad (some or attending graduate or professional school), prof (graduate or professional degree)."},
	{ID: colDemographicIncome, Description: "Approximate yearly family income in US dollars: 0, 5000, 10000, 15000, then 20000 to 190000 in steps of 10000, >200000, or na (prefer not to answer)."},
	{ID: colDemographicComments, Description: "Anything else the parent wanted to tell researchers, in their own words. Review before publication."},
	{ID: colDemographicCountry, Description: "Country the family lives in, as a 2-letter ISO code."},
	{ID: colDemographicState, Description: "US state the family lives in, as a 2-letter code, when the country is US."},
	{ID: colDemographicDensity, Description: "How the parent describes where they live: urban, suburban or rural."},
	{ID: colDemographicLookitReferer, Description: "How the parent heard about the platform, in their own words."},
}

// frameDataColumns are the columns of the frame data file.
var frameDataColumns = []Column{
	{ID: "response_uuid", Description: "Unique id of the response (session); it matches the response overview and video file names."},
	{ID: "child_hashed_id", Description: "Id of the child that is specific to this study; it matches child__hashed_id in the overviews and may be published. Use child__global_id to match children across studies."},
	{ID: "frame_id", Description: "The frame the data came from, as listed in response__sequence of the response overview; global for data not tied to a frame."},
	{ID: "event_number", Description: "For event data, the index of the event within its frame (or within the global events), from 0. Empty for data that is not an event."},
	{ID: "key", Description: "Name of the piece of data, with dots for nesting, e.g. formData.favorite_animal."},
	{ID: "value", Description: "The value of that piece of data (of that event, for event data), e.g. giraffe."},
}

// SummaryColumns returns the response columns in Lookit's order, for a column picker.
func SummaryColumns() []Column { return append([]Column(nil), responseColumns...) }

// DemographicColumns returns the demographic columns in Lookit's order.
func DemographicColumns() []Column { return append([]Column(nil), demographicColumns...) }

// optionalIDs are the optional column ids; an Options value is a bit set over them.
var optionalIDs = func() []string {
	var ids []string
	for _, c := range responseColumns {
		if c.Optional {
			ids = append(ids, c.ID)
		}
	}
	return ids
}()

// Options selects optional columns: Lookit's data_options (responses, children) and
// demo_options (demographics) lists. The zero value selects none. It also carries Lookit's
// full_uuids choice for the Psych-DS zip (see WithFullUUIDs).
type Options struct {
	bits      uint32
	fullUUIDs bool
}

// ErrUnknownColumn is returned by NewOptions for an id that is not an optional column.
var ErrUnknownColumn = errors.New("downloads: not an optional column")

// NewOptions selects the optional columns with these ids. Unknown ids are reported in the error
// (wrapping ErrUnknownColumn); the returned Options still holds the known ones, so a caller that
// wants Lookit's behaviour (ignore them) can.
func NewOptions(ids ...string) (Options, error) {
	var o Options
	var unknown []string
	for _, id := range ids {
		i := optionalIndex(id)
		if i < 0 {
			unknown = append(unknown, fmt.Sprintf("%q", id))
			continue
		}
		o.bits |= 1 << uint(i)
	}
	if unknown != nil {
		return o, fmt.Errorf("%w: %s", ErrUnknownColumn, strings.Join(unknown, ", "))
	}
	return o, nil
}

// DefaultOptions selects the optional columns Lookit checks by default.
func DefaultOptions() Options {
	var o Options
	for _, c := range responseColumns {
		if c.DefaultOn {
			o.bits |= 1 << uint(optionalIndex(c.ID))
		}
	}
	return o
}

func optionalIndex(id string) int {
	for i, o := range optionalIDs {
		if o == id {
			return i
		}
	}
	return -1
}

// Has reports whether the optional column id is selected.
func (o Options) Has(id string) bool {
	i := optionalIndex(id)
	return i >= 0 && o.bits&(1<<uint(i)) != 0
}

// IDs lists the selected column ids in column order.
func (o Options) IDs() []string {
	var ids []string
	for i, id := range optionalIDs {
		if o.bits&(1<<uint(i)) != 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// Identifiable reports whether an identifiable response column is selected: Lookit then marks
// the response, JSON and children file names.
func (o Options) Identifiable() bool { return o.identifiableIn(responseColumns) }

func (o Options) identifiableIn(cols []Column) bool {
	for _, c := range cols {
		if c.Optional && c.Identifiable && o.Has(c.ID) {
			return true
		}
	}
	return false
}

// included reports whether column c is in a file made with these options.
func (o Options) included(c Column) bool { return !c.Optional || o.Has(c.ID) }
