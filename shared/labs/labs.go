// Package labs holds what a lab is and the rules of its membership: the lab's details and their
// validation, and the role changes Lookit allows (the last admin stays).
package labs

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
)

// Input is a lab's editable details as a researcher submits them.
type Input struct {
	Name                      string `json:"name"`
	Slug                      string `json:"slug"` // optional; the lab page's address
	Institution               string `json:"institution"`
	PrincipalInvestigatorName string `json:"principal_investigator_name"`
	ContactEmail              string `json:"contact_email"` // Reply-To of the lab's family mail
	ContactPhone              string `json:"contact_phone"`
	LabWebsite                string `json:"lab_website"` // optional
	Description               string `json:"description"`
	IRBContactInfo            string `json:"irb_contact_info"`
}

// Lab is a lab as stored.
type Lab struct {
	ID             int64
	UUID           string
	Input          // validated details
	ApprovedToTest bool
	ApprovedAt     *time.Time
	CreatedAt      time.Time
	MyRole         authz.LabRole // the caller's role, "" when not a member
	MemberCount    int
}

// Member is a researcher's place in a lab.
type Member struct {
	UserUUID   string
	Email      string
	GivenName  string
	FamilyName string
	Role       authz.LabRole // LabRequested for a pending join request
	Since      time.Time
}

var (
	slugPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	phonePattern = regexp.MustCompile(`^[0-9 +().x/-]{3,64}$`)
)

// Clean trims every field and validates the details, returning them or an error naming the
// first bad field.
func (in Input) Clean() (Input, error) {
	t := strings.TrimSpace
	in = Input{Name: t(in.Name), Slug: t(in.Slug), Institution: t(in.Institution),
		PrincipalInvestigatorName: t(in.PrincipalInvestigatorName), ContactEmail: t(in.ContactEmail),
		ContactPhone: t(in.ContactPhone), LabWebsite: t(in.LabWebsite), Description: t(in.Description),
		IRBContactInfo: t(in.IRBContactInfo)}
	required := []struct {
		pointer, name, value string
		max                  int
		multiline            bool
	}{
		{"/name", "name", in.Name, 255, false},
		{"/institution", "institution", in.Institution, 255, false},
		{"/principal_investigator_name", "principal investigator's name", in.PrincipalInvestigatorName, 255, false},
		{"/description", "description", in.Description, accounts.MaxTextRunes, true},
		{"/irb_contact_info", "IRB contact information", in.IRBContactInfo, accounts.MaxTextRunes, true},
	}
	for _, f := range required {
		if f.value == "" {
			return Input{}, apperr.Field(f.pointer, "%s is required", f.name)
		}
		if err := accounts.CheckText(f.pointer, f.name, f.value, f.max, f.multiline); err != nil {
			return Input{}, err
		}
	}
	if in.Slug != "" && (len(in.Slug) > 64 || !slugPattern.MatchString(in.Slug)) {
		return Input{}, apperr.Field("/slug", "slug must be lower-case letters and digits joined by single hyphens, at most 64 characters")
	}
	email, err := accounts.NormalizeEmail("/contact_email", in.ContactEmail)
	if err != nil {
		return Input{}, err
	}
	in.ContactEmail = email
	if !phonePattern.MatchString(in.ContactPhone) {
		return Input{}, apperr.Field("/contact_phone", "contact phone must be a phone number")
	}
	if in.LabWebsite != "" {
		u, err := url.Parse(in.LabWebsite)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.LabWebsite) > 400 {
			return Input{}, apperr.Field("/lab_website", "lab website must be an http or https address")
		}
	}
	return in, nil
}

// ParseRole returns the member role named s: guest, readonly, member or admin (a join request is
// not a role one can be given).
func ParseRole(s string) (authz.LabRole, error) {
	switch r := authz.LabRole(s); r {
	case authz.LabGuest, authz.LabReadOnly, authz.LabMember, authz.LabAdmin:
		return r, nil
	}
	return "", apperr.Field("/role", "role must be guest, readonly, member or admin")
}

// CheckLastAdmin refuses a change that would leave a lab without an admin: from is the member's
// role now, to the role after the change ("" for removal), admins the number of admins now.
func CheckLastAdmin(from, to authz.LabRole, admins int) error {
	if from == authz.LabAdmin && to != authz.LabAdmin && admins <= 1 {
		return apperr.New(apperr.Conflict, "a lab must keep at least one admin: make someone else an admin first")
	}
	return nil
}
