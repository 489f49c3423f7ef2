package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// waitHeld waits until cond holds of what the owners hold.
func waitHeld(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // the group settles in its own time
	}
}

// Two owners in one group split a topic's partitions; each company is
// owned by exactly one, the one holding the partition a producer puts the
// company's records in. When one leaves, it releases its companies first,
// and the other takes them all.
func TestOwnersSplitCompaniesAndHandOver(t *testing.T) {
	b := startBroker(t, kafka.WithMinSessionTimeout(100*time.Millisecond))
	createTopic(t, b.Cluster(), "by-company", 6)
	ctx := testCtx(t)
	var mu sync.Mutex
	released := map[int][]string{}
	companies := make([]string, 60)
	for i := range companies {
		companies[i] = fmt.Sprintf("company-%d", i)
	}
	var owners []*kafka.Owner
	for i := range 2 {
		o, err := kafka.NewOwner(ctx, b.Cluster(), "stage", "by-company", testLog(), kafka.WithOwnerSession(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if o.Owns(companies[0]) {
			t.Fatal("an owner not started owns a company")
		}
		if err := o.Start(func(_ context.Context, gone func(string) bool) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range companies {
				if gone(c) {
					released[i] = append(released[i], c)
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(o.Close)
		owners = append(owners, o)
	}
	waitHeld(t, "the two owners to split the six partitions", func() bool {
		a, b := len(owners[0].Held()), len(owners[1].Held())
		return a > 0 && b > 0 && a+b == 6
	})

	// Where a producer with the system's options puts each company.
	prod := client(t, b.Cluster(), kgo.DefaultProduceTopic("by-company"))
	for _, c := range companies {
		r, err := prod.ProduceSync(ctx, &kgo.Record{Key: []byte(c)}).First()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, o := range owners {
			if o.Owns(c) {
				n++
				held := false
				for _, p := range o.Held() {
					held = held || p == r.Partition
				}
				if !held {
					t.Errorf("owner %d owns %s, whose records go to partition %d, which it does not hold", i, c, r.Partition)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s is owned by %d owners, want 1", c, n)
		}
	}

	owned0 := 0
	for _, c := range companies {
		if owners[0].Owns(c) {
			owned0++
		}
	}
	ch := owners[1].Changed()
	mu.Lock()
	released = map[int][]string{} // what joining moved between them does not count
	mu.Unlock()
	owners[0].Close()
	mu.Lock()
	if len(released[0]) != owned0 {
		t.Errorf("the owner that left released %d companies before it went, want the %d it owned", len(released[0]), owned0)
	}
	mu.Unlock()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("the remaining owner was never told its partitions changed")
	}
	waitHeld(t, "the remaining owner to hold every partition", func() bool { return len(owners[1].Held()) == 6 })
	for _, c := range companies {
		if !owners[1].Owns(c) {
			t.Fatalf("%s is owned by no one after the hand-over", c)
		}
	}
}
