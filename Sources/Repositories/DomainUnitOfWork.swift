public import Persistence

/// A Unit of Work with the repositories the services use, each behind its protocol: the guide's "inject a mock
/// repository into the Unit of Work" in Swift's terms.
///
/// Services are generic over a ``Persistence/UnitOfWorkProvider`` whose `Work` conforms, so they run unchanged on
/// PostgreSQL (``Persistence/UnitOfWork``, whose `slots`, `slotEvents` and `recruiters` are the concrete
/// ``SlotRepository``, ``SlotEventRepository`` and ``RecruiterRepository``) and, in unit tests, on an in-memory
/// Unit of Work. The associated types keep the production calls direct: no existential box per repository call.
public protocol DomainUnitOfWork: UnitOfWorkProtocol {
    associatedtype Slots: SlotRepositoryProtocol
    associatedtype SlotEvents: SlotEventRepositoryProtocol
    associatedtype Recruiters: RecruiterRepositoryProtocol

    /// Slots in this Unit of Work.
    var slots: Slots { get }
    /// The slots' event log in this Unit of Work.
    var slotEvents: SlotEvents { get }
    /// Recruiters in this Unit of Work.
    var recruiters: Recruiters { get }
}

extension UnitOfWork: DomainUnitOfWork {}
