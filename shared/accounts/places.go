package accounts

import (
	"slices"
	"strings"
)

// countryCodes are the 249 officially assigned ISO 3166-1 alpha-2 codes, the values Lookit's
// django-countries CountryField accepts. User-assigned codes such as XK are not included.
var countryCodes = strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
`)

// CountryUS is the country for which a state may be given.
const CountryUS = "US"

// CountryCodes returns the accepted ISO 3166-1 alpha-2 country codes, sorted.
func CountryCodes() []string { return slices.Clone(countryCodes) }

// ValidCountry reports whether code is an assigned ISO 3166-1 alpha-2 code (upper case).
func ValidCountry(code string) bool {
	_, ok := slices.BinarySearch(countryCodes, code)
	return ok
}

// stateChoices are localflavor's USPS_CHOICES, which Lookit's USStateField offers: the 50 states
// and DC, the five inhabited territories, the three armed-forces mail regions and the three
// Compact of Free Association states. Sorted by code.
var stateChoices = []Choice{
	{"AA", "Armed Forces Americas"},
	{"AE", "Armed Forces Europe"},
	{"AK", "Alaska"},
	{"AL", "Alabama"},
	{"AP", "Armed Forces Pacific"},
	{"AR", "Arkansas"},
	{"AS", "American Samoa"},
	{"AZ", "Arizona"},
	{"CA", "California"},
	{"CO", "Colorado"},
	{"CT", "Connecticut"},
	{"DC", "District of Columbia"},
	{"DE", "Delaware"},
	{"FL", "Florida"},
	{"FM", "Federated States of Micronesia"},
	{"GA", "Georgia"},
	{"GU", "Guam"},
	{"HI", "Hawaii"},
	{"IA", "Iowa"},
	{"ID", "Idaho"},
	{"IL", "Illinois"},
	{"IN", "Indiana"},
	{"KS", "Kansas"},
	{"KY", "Kentucky"},
	{"LA", "Louisiana"},
	{"MA", "Massachusetts"},
	{"MD", "Maryland"},
	{"ME", "Maine"},
	{"MH", "Marshall Islands"},
	{"MI", "Michigan"},
	{"MN", "Minnesota"},
	{"MO", "Missouri"},
	{"MP", "Northern Mariana Islands"},
	{"MS", "Mississippi"},
	{"MT", "Montana"},
	{"NC", "North Carolina"},
	{"ND", "North Dakota"},
	{"NE", "Nebraska"},
	{"NH", "New Hampshire"},
	{"NJ", "New Jersey"},
	{"NM", "New Mexico"},
	{"NV", "Nevada"},
	{"NY", "New York"},
	{"OH", "Ohio"},
	{"OK", "Oklahoma"},
	{"OR", "Oregon"},
	{"PA", "Pennsylvania"},
	{"PR", "Puerto Rico"},
	{"PW", "Palau"},
	{"RI", "Rhode Island"},
	{"SC", "South Carolina"},
	{"SD", "South Dakota"},
	{"TN", "Tennessee"},
	{"TX", "Texas"},
	{"UT", "Utah"},
	{"VA", "Virginia"},
	{"VI", "Virgin Islands"},
	{"VT", "Vermont"},
	{"WA", "Washington"},
	{"WI", "Wisconsin"},
	{"WV", "West Virginia"},
	{"WY", "Wyoming"},
}

// StateChoices returns the accepted US state and territory codes with their names, sorted by code.
func StateChoices() []Choice { return slices.Clone(stateChoices) }

// ValidState reports whether code is one of StateChoices (upper case).
func ValidState(code string) bool {
	_, ok := slices.BinarySearchFunc(stateChoices, code, func(c Choice, code string) int {
		return strings.Compare(c.Value, code)
	})
	return ok
}
