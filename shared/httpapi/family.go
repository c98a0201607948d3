package httpapi

import (
	"context"
	"encoding/json"
	"fmt"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/postgres"
)

func (s *appServer) families(ctx context.Context) (*postgres.Families, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Families{Pool: pool}, nil
}

// recode moves a generated request type into the domain input type with the same JSON names,
// so that validation (and its field names) lives in one place: package accounts.
func recode(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return fmt.Errorf("httpapi: recode: %w", err)
	}
	if err := json.Unmarshal(b, to); err != nil {
		return fmt.Errorf("httpapi: recode: %w", err)
	}
	return nil
}

func childOut(c accounts.Child) appapi.Child {
	var ga *int
	if c.GestationalAge != nil {
		v := int(*c.GestationalAge)
		ga = &v
	}
	conds, langs := c.Conditions.Codes(), c.Languages.Codes()
	if conds == nil {
		conds = []string{}
	}
	if langs == nil {
		langs = []string{}
	}
	out := appapi.Child{Id: uuidOf(c.UUID), GivenName: c.GivenName, Gender: c.Gender,
		GenderSelfDescribe: c.GenderSelfDescribe, GestationalAgeAtBirth: ga, AgeAtBirth: c.AgeAtBirth(),
		AdditionalInformation: c.AdditionalInformation, ExistingConditions: conds, LanguagesSpoken: langs,
		LanguageList: c.LanguageList(), ConditionList: c.ConditionList()}
	out.Birthday.Time = c.Birthday.Time()
	return out
}

func (s *appServer) ListChildren(ctx context.Context, _ appapi.ListChildrenRequestObject) (appapi.ListChildrenResponseObject, error) {
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := f.ListChildren(ctx, PrincipalFrom(ctx).Subject.UserID)
	if err != nil {
		return nil, err
	}
	out := appapi.ListChildren200JSONResponse{}
	for _, c := range cs {
		out = append(out, childOut(c))
	}
	return out, nil
}

func (s *appServer) CreateChild(ctx context.Context, req appapi.CreateChildRequestObject) (appapi.CreateChildResponseObject, error) {
	var in accounts.ChildInput
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	if err := recode(req.Body, &in); err != nil {
		return nil, err
	}
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	c, err := f.CreateChild(ctx, PrincipalFrom(ctx).Subject.UserID, in, postgres.Today())
	if err != nil {
		return nil, err
	}
	return appapi.CreateChild201JSONResponse(childOut(c)), nil
}

func (s *appServer) GetChild(ctx context.Context, req appapi.GetChildRequestObject) (appapi.GetChildResponseObject, error) {
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	_, c, err := f.FindChild(ctx, req.ChildId)
	if err != nil {
		return nil, err
	}
	return appapi.GetChild200JSONResponse(childOut(c)), nil
}

func (s *appServer) UpdateChild(ctx context.Context, req appapi.UpdateChildRequestObject) (appapi.UpdateChildResponseObject, error) {
	var in accounts.ChildInput
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	if err := recode(req.Body, &in); err != nil {
		return nil, err
	}
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	c, err := f.UpdateChild(ctx, PrincipalFrom(ctx).Subject.UserID, req.ChildId, in, postgres.Today())
	if err != nil {
		return nil, err
	}
	return appapi.UpdateChild200JSONResponse(childOut(c)), nil
}

func (s *appServer) DeleteChild(ctx context.Context, req appapi.DeleteChildRequestObject) (appapi.DeleteChildResponseObject, error) {
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	if err := f.DeleteChild(ctx, PrincipalFrom(ctx).Subject.UserID, req.ChildId); err != nil {
		return nil, err
	}
	return appapi.DeleteChild204Response{}, nil
}

func demographicsOut(d accounts.Demographics) (appapi.Demographics, error) {
	births := make([]string, 0, len(d.ChildBirthdays))
	for _, b := range d.ChildBirthdays {
		births = append(births, b.String())
	}
	var extra map[string]any
	if len(d.Extra) > 0 {
		if err := json.Unmarshal(d.Extra, &extra); err != nil {
			return appapi.Demographics{}, err
		}
	}
	m := map[string]any{
		"id": d.UUID, "created_at": d.CreatedAt, "number_of_children": d.NumberOfChildren, "child_birthdays": births,
		"number_of_guardians": d.NumberOfGuardians, "number_of_guardians_explanation": d.NumberOfGuardiansExplanation,
		"us_race_ethnicity_identification":          d.USRaceEthnicityIdentification,
		"us_race_ethnicity_identification_describe": d.USRaceEthnicityIdentificationDescribe,
		"age": d.Age, "gender": d.Gender, "gender_self_describe": d.GenderSelfDescribe,
		"education_level": d.EducationLevel, "annual_income": d.AnnualIncome, "country": d.Country, "state": d.State,
		"density": d.Density, "lookit_referrer": d.LookitReferrer, "additional_comments": d.AdditionalComments, "extra": extra,
	}
	var out appapi.Demographics
	return out, recode(m, &out)
}

func (s *appServer) GetDemographics(ctx context.Context, _ appapi.GetDemographicsRequestObject) (appapi.GetDemographicsResponseObject, error) {
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	d, ok, err := f.LatestDemographics(ctx, PrincipalFrom(ctx).Subject.UserID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no demographic survey yet")
	}
	out, err := demographicsOut(d)
	if err != nil {
		return nil, err
	}
	return appapi.GetDemographics200JSONResponse(out), nil
}

func (s *appServer) SaveDemographics(ctx context.Context, req appapi.SaveDemographicsRequestObject) (appapi.SaveDemographicsResponseObject, error) {
	var in accounts.DemographicsInput
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	if err := recode(req.Body, &in); err != nil {
		return nil, err
	}
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	d, err := f.AddDemographics(ctx, PrincipalFrom(ctx).Subject.UserID, in, postgres.Today())
	if err != nil {
		return nil, err
	}
	out, err := demographicsOut(d)
	if err != nil {
		return nil, err
	}
	return appapi.SaveDemographics201JSONResponse(out), nil
}

func (s *appServer) SetEmailPreferences(ctx context.Context, req appapi.SetEmailPreferencesRequestObject) (appapi.SetEmailPreferencesResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	p := accounts.EmailPreferences{NextSession: req.Body.EmailNextSession, NewStudies: req.Body.EmailNewStudies,
		StudyUpdates: req.Body.EmailStudyUpdates, ResponseQuestions: req.Body.EmailResponseQuestions}
	if err := f.SetEmailPreferences(ctx, PrincipalFrom(ctx).Subject.UserID, p); err != nil {
		return nil, err
	}
	return appapi.SetEmailPreferences200JSONResponse(*req.Body), nil
}

var errBadUnsubscribe = apperr.Field("/token", "this unsubscribe link is not valid; change your email preferences in your account instead")

// Unsubscribe serves the List-Unsubscribe-Post target: the signed token alone identifies the
// family, because mail clients post without cookies.
func (s *appServer) Unsubscribe(ctx context.Context, req appapi.UnsubscribeRequestObject) (appapi.UnsubscribeResponseObject, error) {
	if err := s.in.Config.Require(config.NeedSecretKey); err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "unsubscribe links are not configured")
	}
	id, err := accounts.ParseUnsubscribeToken([]byte(s.in.Config.SecretKey), req.Token)
	if err != nil {
		return nil, errBadUnsubscribe
	}
	f, err := s.families(ctx)
	if err != nil {
		return nil, err
	}
	ok, err := f.UnsubscribeAll(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBadUnsubscribe
	}
	return appapi.Unsubscribe200JSONResponse{Status: "unsubscribed"}, nil
}
