import Domain
import Foundation
import Testing

@Suite("Domain values")
struct DomainTests {
    @Test func slotStatusTransitionsAreExactlyTheDocumentedOnes() {
        let expected: [SlotStatus: Set<SlotStatus>] = [
            .free: [.reserved, .canceled, .expired],
            .reserved: [.free, .booked, .canceled, .expired],
            .booked: [.confirmed, .free, .canceled],
            .confirmed: [.free, .canceled],
            .canceled: [],
            .expired: [],
        ]
        for from in SlotStatus.allCases {
            for to in SlotStatus.allCases {
                #expect(from.canTransition(to: to) == expected[from]!.contains(to), "\(from) → \(to)")
            }
        }
        #expect(SlotStatus.allCases.filter(\.isTerminal) == [.canceled, .expired])
        #expect(SlotStatus.allCases.filter(\.requiresCandidate) == [.reserved, .booked, .confirmed])
        #expect(
            SlotStatus.allCases.map(\.rawValue) == ["FREE", "RESERVED", "BOOKED", "CONFIRMED", "CANCELED", "EXPIRED"])
    }

    @Test func slotDefaultsAndEnd() {
        let slot = Slot(recruiterID: 1, cityID: 2, startsAt: base, durationMinutes: 45)
        #expect(slot.id == nil)
        #expect(slot.status == .free)
        #expect(slot.candidateTelegramID == nil)
        #expect(slot.reservedUntil == nil)
        #expect(slot.endsAt == base.addingTimeInterval(2700))
        #expect(Slot.durationRange == 1...480)
    }

    @Test func valuesRoundTripThroughJSON() throws {
        let slot = Slot(
            id: 7, recruiterID: 1, cityID: 2, startsAt: base, durationMinutes: 30, status: .reserved,
            candidateTelegramID: 42, reservedUntil: at(minutes: -60)
        )
        let decoded = try JSONDecoder().decode(Slot.self, from: JSONEncoder().encode(slot))
        #expect(decoded == slot)
        let status = try JSONDecoder().decode([SlotStatus].self, from: Data(#"["BOOKED"]"#.utf8))
        #expect(status == [.booked])
    }
}
