package jsonapi

import (
	"net/url"
	"strconv"

	"lookit.dev/platform/shared/apperr"
)

// Page sizes: Lookit's default and maximum.
const (
	DefaultPageSize = 10
	MaxPageSize     = 100
)

// Page is one page of a list.
type Page struct {
	Number int // from 1
	Size   int
}

// Offset is the number of items before the page.
func (p Page) Offset() int { return (p.Number - 1) * p.Size }

// ParsePage reads ?page=N&page_size=M, and the experiment runner's page[size] and page[number]
// (Lookit ignored page[size]; honouring it is harmless, as the runner asks for the default).
func ParsePage(q url.Values) (Page, error) {
	p := Page{Number: 1, Size: DefaultPageSize}
	num := func(names []string, min, max int, dst *int) error {
		for _, n := range names {
			v := q.Get(n)
			if v == "" {
				continue
			}
			i, err := strconv.Atoi(v)
			if err != nil || i < min || i > max {
				return apperr.Field("/"+n, "%s must be a whole number from %d to %d", n, min, max)
			}
			*dst = i
		}
		return nil
	}
	if err := num([]string{"page", "page[number]"}, 1, 1_000_000, &p.Number); err != nil {
		return Page{}, err
	}
	if err := num([]string{"page_size", "page[size]"}, 1, MaxPageSize, &p.Size); err != nil {
		return Page{}, err
	}
	return p, nil
}

// ListLinks are a list document's links, with Lookit's page metadata under links.meta (where
// the runner reads count).
type ListLinks struct {
	First string   `json:"first"`
	Last  string   `json:"last"`
	Next  *string  `json:"next"`
	Prev  *string  `json:"prev"`
	Meta  PageMeta `json:"meta"`
}

// PageMeta counts the list.
type PageMeta struct {
	Page  int `json:"page"`
	Pages int `json:"pages"`
	Count int `json:"count"`
}

// List is a list document.
type List struct {
	Links ListLinks  `json:"links"`
	Data  []Resource `json:"data"`
}

// NewList builds the document for one page of count items at base (whose query is kept).
func NewList(base *url.URL, p Page, count int, data []Resource) List {
	pages := max(1, (count+p.Size-1)/p.Size)
	at := func(n int) string {
		u := *base
		q := u.Query()
		q.Del("page[number]")
		q.Set("page", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		return u.String()
	}
	l := List{Links: ListLinks{First: at(1), Last: at(pages), Meta: PageMeta{Page: p.Number, Pages: pages, Count: count}}, Data: data}
	if p.Number < pages {
		s := at(p.Number + 1)
		l.Links.Next = &s
	}
	if p.Number > 1 {
		s := at(min(p.Number-1, pages))
		l.Links.Prev = &s
	}
	if l.Data == nil {
		l.Data = []Resource{}
	}
	return l
}
