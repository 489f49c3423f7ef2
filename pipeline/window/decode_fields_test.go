package window

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The lean decoder finds fields numbered below 32 in a table and the rest
// through the descriptor: unknown fields on either side of that edge, in
// the event and inside the order and its lines, are read as proto.Unmarshal
// reads them.
func TestDecodeUnknownFieldsAroundTheFieldTable(t *testing.T) {
	order := hotPathDecorate(hotPathOrder("co", "o-1", local(t, ldnZone, "2026-06-10 12:00:00"), 2, "Flat white"), 1)
	rec := order.GetRecord()
	body, err := proto.Marshal(rec.GetOrder())
	if err != nil {
		t.Fatal(err)
	}
	line, err := proto.Marshal(rec.GetOrder().GetOrderLineItems()[0])
	if err != nil {
		t.Fatal(err)
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), []byte(s))
	}
	var d eventDecoder
	for _, num := range []protowire.Number{30, 31, 32, 33, 64} {
		withOrder := func(o []byte) []byte {
			recBytes, err := proto.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			// A later order field replaces the record's order, as protobuf
			// merges a repeated message field.
			recBytes = protowire.AppendBytes(protowire.AppendTag(recBytes, 10, protowire.BytesType), o)
			evBytes, err := proto.Marshal(order)
			if err != nil {
				t.Fatal(err)
			}
			return protowire.AppendBytes(protowire.AppendTag(evBytes, 10, protowire.BytesType), recBytes)
		}
		lineWith := str(bytes.Clone(line), num, "unknown")
		for name, b := range map[string][]byte{
			"event": str(nil, num, "unknown"),
			"order": withOrder(str(bytes.Clone(body), num, "unknown")),
			"line":  withOrder(protowire.AppendBytes(protowire.AppendTag(bytes.Clone(body), 14, protowire.BytesType), lineWith)),
		} {
			if name == "event" {
				evBytes, err := proto.Marshal(order)
				if err != nil {
					t.Fatal(err)
				}
				b = append(evBytes, b...)
			}
			t.Run(name, func(t *testing.T) { hotPathDecodeAgrees(t, &d, b) })
		}
	}
}

// A length-delimited field longer than what is left is refused, even when
// what is left would read as fields of its own.
func TestDecodeFieldLongerThanTheRest(t *testing.T) {
	order := hotPathOrder("co", "o-1", local(t, ldnZone, "2026-06-10 12:00:00"), 1, "Flat white")
	good, err := proto.Marshal(order)
	if err != nil {
		t.Fatal(err)
	}
	var d eventDecoder
	for _, over := range []uint64{1, 2, 8} {
		b := protowire.AppendTag(bytes.Clone(good), 99, protowire.BytesType)
		rest := protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 5) // received_unix_ms = 5
		b = protowire.AppendVarint(b, uint64(len(rest))+over)
		b = append(b, rest...)
		hotPathDecodeAgrees(t, &d, b)
	}
}

// Varints whose first byte is exactly 0x80 (values 128, 1024, 16384, …, a
// continuation byte with no bits of its own) are read as proto reads them.
func TestDecodeVarintsStartingWith0x80(t *testing.T) {
	var d eventDecoder
	for _, v := range []int64{128, 1024, 16384, 1 << 21} {
		order := hotPathDecorate(hotPathOrder("co", "o-1", local(t, ldnZone, "2026-06-10 12:00:00"), 1, "Flat white"), 1)
		order.ReceivedUnixMs = v
		order.GetRecord().SourceModifiedUnixMs = v
		b, err := proto.Marshal(order)
		if err != nil {
			t.Fatal(err)
		}
		hotPathDecodeAgrees(t, &d, b)
		got, err := d.decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetReceivedUnixMs() != v || got.GetRecord().GetSourceModifiedUnixMs() != v {
			t.Fatalf("decoded %d and %d; want %d", got.GetReceivedUnixMs(), got.GetRecord().GetSourceModifiedUnixMs(), v)
		}
	}
}
