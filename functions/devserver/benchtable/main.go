// Command benchtable reads `go test -bench` output on stdin and prints a table in which each
// benchmark's "ours" case stands beside its "ceiling" case (the same work straight through the
// underlying library, measured in the same run).
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op)?`)

type result struct {
	ns, bytes, allocs float64
	extra             []string // other metrics the benchmark reported (b.ReportMetric), "value unit"
}

var metric = regexp.MustCompile(`([\d.]+) (\S+)`)

func main() {
	rows := map[string]map[string]result{}
	var order []string
	pkg := ""
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(text, "pkg: ") {
			pkg = strings.TrimPrefix(text, "pkg: ")
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		name, variant := m[1], ""
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name, variant = name[:i], name[i+1:]
		}
		name = pkg[strings.LastIndex(pkg, "/")+1:] + "." + strings.TrimPrefix(name, "Benchmark")
		if rows[name] == nil {
			rows[name] = map[string]result{}
			order = append(order, name)
		}
		var r result
		r.ns, _ = strconv.ParseFloat(m[2], 64)
		r.bytes, _ = strconv.ParseFloat(m[3], 64)
		r.allocs, _ = strconv.ParseFloat(m[4], 64)
		for _, x := range metric.FindAllStringSubmatch(text, -1) {
			if u := x[2]; u != "ns/op" && u != "B/op" && u != "allocs/op" {
				r.extra = append(r.extra, x[1]+" "+u)
			}
		}
		rows[name][variant] = r
	}
	if len(order) == 0 {
		fmt.Println("no benchmark results")
		os.Exit(1)
	}
	sort.Strings(order)
	fmt.Printf("\n%-34s %14s %14s %9s %12s\n", "benchmark", "ours", "ceiling", "ours/ceil", "allocs/op")
	fmt.Println(strings.Repeat("-", 87))
	for _, n := range order {
		v := rows[n]
		ours, hasOurs := v["ours"]
		ceil, hasCeil := v["ceiling"]
		if !hasOurs {
			ours, hasOurs = v[""]
		}
		ratio, ceilCol := "-", "-"
		if hasCeil {
			ceilCol = duration(ceil.ns)
			if hasOurs && ceil.ns > 0 {
				ratio = fmt.Sprintf("%.2fx", ours.ns/ceil.ns)
			}
		}
		fmt.Printf("%-34s %14s %14s %9s %12.0f\n", n, duration(ours.ns), ceilCol, ratio, ours.allocs)
	}
	// Benchmarks that measure more than time per operation report it here.
	for _, n := range order {
		for _, variant := range []string{"ours", "", "ceiling"} {
			if r, ok := rows[n][variant]; ok && len(r.extra) > 0 {
				label := n
				if variant != "" {
					label += " (" + variant + ")"
				}
				fmt.Printf("%s: %s\n", label, strings.Join(r.extra, ", "))
			}
		}
	}
}

func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}
