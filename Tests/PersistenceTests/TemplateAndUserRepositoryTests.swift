import Domain
import Foundation
import Persistence
import Repositories
import Testing

@Suite("Template and user repositories")
struct TemplateAndUserRepositoryTests {
    @Test func findPrefersTheCityOverrideThenTheDefault() async throws {
        try await withDatabase { database throws in
            let (_, moscow) = try await database.seedRecruiterAndCity()
            let (_, kazan) = try await database.seedRecruiterAndCity(recruiter: "Boris", city: "Kazan")
            let stored = try await database.seed { uow throws in
                [
                    try await uow.templates.add(MessageTemplate(key: "invite.24h", body: "Tomorrow")).get(),
                    try await uow.templates.add(
                        MessageTemplate(key: "invite.24h", cityID: moscow.id, body: "Zavtra v Moskve")
                    ).get(),
                    try await uow.templates.add(
                        MessageTemplate(key: "invite.24h", locale: "en", body: "Tomorrow (en)")
                    )
                    .get(),
                    try await uow.templates.add(MessageTemplate(key: "invite.2h", body: "Soon")).get(),
                ]
            }
            #expect(stored[1].cityID == moscow.id)
            #expect(stored[2].locale == "en")
            try await database.read { uow throws in
                #expect(try await uow.templates.find(key: "invite.24h", cityID: moscow.id).get() == stored[1])
                #expect(try await uow.templates.find(key: "invite.24h", cityID: kazan.id).get() == stored[0])
                #expect(try await uow.templates.find(key: "invite.24h", cityID: nil).get() == stored[0])
                #expect(
                    try await uow.templates.find(key: "invite.24h", cityID: kazan.id, locale: "en").get() == stored[2]
                )
                // The city's override wins over a locale-specific default.
                #expect(
                    try await uow.templates.find(key: "invite.24h", cityID: moscow.id, locale: "en").get()
                        == stored[1])
                #expect(try await uow.templates.find(key: "invite.2h", cityID: moscow.id).get() == stored[3])
                #expect(
                    await uow.templates.find(key: "welcome", cityID: moscow.id).failure
                        == .notFound(entity: "MessageTemplate", id: "welcome")
                )
            }
        }
    }

    @Test func templateConstraintsSurfaceAsConflictsAndValidation() async throws {
        try await withDatabase { database throws in
            let (_, city) = try await database.seedRecruiterAndCity()
            try await database.seed { uow throws in
                _ = try await uow.templates.add(MessageTemplate(key: "welcome", body: "Hi")).get()
                _ = try await uow.templates.add(MessageTemplate(key: "welcome", cityID: city.id, body: "Privet")).get()
            }
            let secondDefault = try await database.read { uow throws in
                await uow.templates.add(MessageTemplate(key: "welcome", body: "Hello again"))
            }
            #expect(secondDefault.failure?.conflictConstraint == "message_templates_key_city_locale_key")
            let secondOverride = try await database.read { uow throws in
                await uow.templates.add(MessageTemplate(key: "welcome", cityID: city.id, body: "Zdravstvuyte"))
            }
            #expect(secondOverride.failure?.conflictConstraint == "message_templates_key_city_locale_key")
            let unknownCity = try await database.read { uow throws in
                await uow.templates.add(MessageTemplate(key: "welcome", cityID: 999, body: "?"))
            }
            #expect(unknownCity.failure?.conflictConstraint == "message_templates_city_id_fkey")
            let emptyBody = try await database.read { uow throws in
                await uow.templates.add(MessageTemplate(key: "bye", body: ""))
            }
            #expect(emptyBody.failure?.validationField == "message_templates_body_check")

            // Deleting the city deletes its override; the default takes over.
            try await database.seed { uow throws in try await uow.cities.delete(city.id!).get() }
            let fallback = try await database.read { uow throws in
                try await uow.templates.find(key: "welcome", cityID: city.id).get()
            }
            #expect(fallback.body == "Hi")
            #expect(fallback.cityID == nil)
        }
    }

    @Test func usersByTelegramID() async throws {
        try await withDatabase { database throws in
            let user = try await database.seed { uow throws in
                try await uow.users.add(User(telegramID: 555_000_111, name: "Ivan", phone: "+79990001122")).get()
            }
            #expect(user.id != nil)
            #expect(user.createdAt != nil)
            try await database.read { uow throws in
                #expect(try await uow.users.getByTelegramID(555_000_111).get() == user)
                #expect(try await uow.users.get(user.id!).get() == user)
                #expect(
                    await uow.users.getByTelegramID(1).failure == .notFound(entity: "User", id: "telegram_id=1")
                )
            }
            var changed = user
            changed.phone = nil
            changed.name = "Ivan P."
            #expect(try await database.seed { uow throws in try await uow.users.update(changed).get() } == changed)

            let duplicate = try await database.read { uow throws in
                await uow.users.add(User(telegramID: 555_000_111, name: "Impostor"))
            }
            #expect(duplicate.failure?.conflictConstraint == "users_telegram_id_key")
            let badPhone = try await database.read { uow throws in
                await uow.users.add(User(telegramID: 2, name: "Petr", phone: "call me"))
            }
            #expect(badPhone.failure?.validationField == "users_phone_check")
            let badID = try await database.read { uow throws in await uow.users.add(User(telegramID: -2, name: "Bot")) }
            #expect(badID.failure?.validationField == "users_telegram_id_check")
        }
    }
}
