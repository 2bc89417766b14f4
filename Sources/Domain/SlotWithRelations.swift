/// A slot with its recruiter and city, loaded together in one query (the guide's eager loading).
public struct SlotWithRelations: Sendable, Hashable, Codable {
    public var slot: Slot
    public var recruiter: Recruiter
    public var city: City

    public init(slot: Slot, recruiter: Recruiter, city: City) {
        self.slot = slot
        self.recruiter = recruiter
        self.city = city
    }
}
