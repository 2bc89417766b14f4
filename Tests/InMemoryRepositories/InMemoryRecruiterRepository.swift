public import Domain
import Foundation
public import Persistence
public import Repositories

/// Recruiters of an ``InMemoryUnitOfWork``, keeping ``Repositories/RecruiterRepositoryProtocol``'s contract (the
/// unique Telegram chat included).
public struct InMemoryRecruiterRepository: RecruiterRepositoryProtocol {
    let unitOfWork: InMemoryUnitOfWork

    public func get(_ id: Int64) async -> Result<Recruiter, RepositoryError> {
        unitOfWork.run("\(RecruiterTable.repositoryName).get") { tables throws(RepositoryError) in
            guard let recruiter = tables.recruiters[id] else {
                throw .notFound(entity: RecruiterTable.entityName, id: "\(id)")
            }
            return recruiter
        }
    }

    public func add(_ recruiter: Recruiter) async -> Result<Recruiter, RepositoryError> {
        unitOfWork.run("\(RecruiterTable.repositoryName).add") { tables throws(RepositoryError) in
            if let chat = recruiter.telegramChatID,
                tables.recruiters.values.contains(where: { $0.telegramChatID == chat })
            {
                throw .conflict(
                    constraint: "recruiters_telegram_chat_id_key",
                    message: "another recruiter has Telegram chat \(chat)"
                )
            }
            var row = recruiter
            row.id = tables.newID()
            row.createdAt = Date()
            tables.recruiters[row.id!] = row
            return row
        }
    }

    public func getActive() async -> Result<[Recruiter], RepositoryError> {
        unitOfWork.run("\(RecruiterTable.repositoryName).get_active") { tables throws(RepositoryError) in
            tables.recruiters.values.filter(\.active).sorted { ($0.name, $0.id!) < ($1.name, $1.id!) }
        }
    }
}
