package window

import (
	"testing"
)

// A product version in force from a time between two orders moves only the
// later order, even when the order it leaves alone sorts first: every order
// that sells the product is looked at, not just those up to the first one
// already right.
func TestProductVersionBetweenTwoOrdersMovesOnlyTheLaterOne(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, 0)
	d3 := local(t, ldn, "2026-06-03 12:00:00")
	d10 := local(t, ldn, "2026-06-10 12:00:00")
	sums := e.push(
		exProduct("latte", local(t, ldn, "2026-06-01 00:00:00"), "drinks", false),
		exOrderOf("o-1", d3, 1, [2]string{"latte", "4.00"}),
		exOrderOf("o-2", d10, 1, [2]string{"latte", "4.50"}),
		exOrderOf("o-3", d10, 1, [2]string{"latte", "3.00"}),
	)
	// 3 June seals as the 10 June order moves the watermark past it.
	sums = append(sums, e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))...)
	count(t, sums, 2)
	byDay := map[string]int{}
	for i, s := range sums {
		byDay[s.GetBusinessDay()] = i
	}
	wantSummary(t, sums[byDay["2026-06-03"]], "2026-06-03", "GBP", 1, ByWatermark, map[string]string{"unsettled": "4.00", "sales:drinks": "-4.00"})
	wantSummary(t, sums[byDay["2026-06-10"]], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "7.50", "sales:drinks": "-7.50"})

	// Coffee from 5 June: o-1 (3 June) keeps drinks, o-2 and o-3 move.
	e.push(exProduct("latte", local(t, ldn, "2026-06-05 00:00:00"), "coffee", false))
	sums = e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"sales:drinks": "7.50", "sales:coffee": "-7.50"})
}
