package downloads

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Order is the order a Source yields responses in.
type Order int

const (
	ByResponse Order = iota // responses.id ascending
	ByChild                 // child, then response id (what ChildrenCSV expects)
)

// Pass is what one pass over a Source asks for.
type Pass struct {
	Order Order
	// ExitOnly says the pass reads nothing of exp_data but its EXIT frames (the overviews and the
	// demographic files, which take only the exit survey's answers): a source may then leave
	// every other frame of an exp_data object out, which spares it reading and parsing the bulk
	// of each response. A list of jsPsych trials must be passed whole.
	ExitOnly bool
}

// Source yields a download's responses. Each may be called several times (once per pass, see
// Passes) and must yield the same responses each time, e.g. by reading one database snapshot or
// by bounding the responses by id and creation time. Each must stop at the first error fn
// returns and return an error; Write then reports fn's own. The *Response passed to fn may be
// reused by the source after fn returns: Write keeps nothing of it but a skipped response's id.
type Source interface {
	Each(ctx context.Context, pass Pass, fn func(*Response) error) error
}

// MaxReportedSkips is how many skipped responses a Result lists; SkippedCount counts them all.
const MaxReportedSkips = 100

// Result reports what Write wrote.
type Result struct {
	// Responses is the number of responses the file holds: those of the last pass that were not
	// skipped (the children overview has fewer rows: one per child).
	Responses int
	// Skipped lists the first MaxReportedSkips responses left out because they cannot be
	// written (see ResponseError), in the order met.
	Skipped      []SkippedResponse
	SkippedCount int
}

// SkippedResponse is a response Write left out.
type SkippedResponse struct {
	ID     int64
	UUID   uuid.UUID
	Reason string // what could not be read, e.g. `exp_data: not valid JSON (at byte 12)`
	// Pass is the pass that rejected it, from 1. A response is skipped in every pass after the
	// one that rejects it; one rejected after the first pass was read differently by an earlier
	// pass (the Source broke its contract), so files written by earlier passes may include it.
	Pass int
}

// passes runs the passes of one Write over a Source, skipping in every pass the responses a
// pass rejected. It holds the ids of the rejected responses only.
type passes struct {
	ctx     context.Context
	src     Source
	pass    int
	skipped map[int64]struct{}
	result  Result
}

// each runs one pass: fn for every response not yet skipped. A *ResponseError from fn skips the
// response from then on; any other error, the source's, or ctx's ends the pass and is returned.
func (p *passes) each(pass Pass, fn func(*Response) error) error {
	p.pass++
	if err := p.ctx.Err(); err != nil {
		return fmt.Errorf("downloads: %w", err)
	}
	n := 0
	var stop error // fn's or ctx's error, returned as it is rather than as the source's
	err := p.src.Each(p.ctx, pass, func(r *Response) error {
		if err := p.ctx.Err(); err != nil {
			stop = fmt.Errorf("downloads: %w", err)
			return stop
		}
		if _, ok := p.skipped[r.ID]; ok {
			return nil
		}
		err := fn(r)
		var re *ResponseError
		switch {
		case err == nil:
			n++
		case errors.As(err, &re):
			p.skip(re)
		default:
			stop = err
			return err
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return fmt.Errorf("downloads: reading responses (pass %d): %w", p.pass, err)
	}
	p.result.Responses = n
	return nil
}

func (p *passes) skip(re *ResponseError) {
	if p.skipped == nil {
		p.skipped = make(map[int64]struct{})
	}
	p.skipped[re.ID] = struct{}{}
	p.result.SkippedCount++
	if len(p.result.Skipped) < MaxReportedSkips {
		reason := re.Error()
		if re.Err != nil {
			reason = re.Err.Error()
		}
		p.result.Skipped = append(p.result.Skipped, SkippedResponse{ID: re.ID, UUID: re.UUID, Reason: reason, Pass: p.pass})
	}
}
