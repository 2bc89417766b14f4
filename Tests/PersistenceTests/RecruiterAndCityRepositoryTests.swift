import Domain
import Foundation
import Persistence
import Repositories
import Testing

@Suite("Recruiter and city repositories")
struct RecruiterAndCityRepositoryTests {
    @Test func getActiveIsOrderedByNameAndSkipsInactive() async throws {
        try await withDatabase { database throws in
            try await database.read { uow throws in
                #expect(try await uow.recruiters.getActive().get() == [])
            }
            try await database.seed { uow throws in
                for (name, active) in [("Zoya", true), ("Anna", true), ("Mark", false), ("Boris", true)] {
                    _ = try await uow.recruiters.add(Recruiter(name: name, active: active)).get()
                }
            }
            let names = try await database.read { uow throws in try await uow.recruiters.getActive().get().map(\.name) }
            #expect(names == ["Anna", "Boris", "Zoya"])
        }
    }

    @Test func assignCityIsIdempotentAndChecksBothSides() async throws {
        try await withDatabase { database throws in
            let (recruiter, moscow) = try await database.seedRecruiterAndCity()
            let kazan = try await database.seed { uow throws in
                try await uow.cities.add(City(name: "Kazan", timeZone: "Europe/Moscow")).get()
            }
            try await database.seed { uow throws in
                #expect(
                    try await uow.recruiters.assignCity(recruiterID: recruiter.id!, cityID: moscow.id!).get() == false)
                #expect(
                    try await uow.recruiters.assignCity(recruiterID: recruiter.id!, cityID: kazan.id!).get() == true)
            }
            let unknownCity = try await database.read { uow throws in
                await uow.recruiters.assignCity(recruiterID: recruiter.id!, cityID: 999)
            }
            #expect(unknownCity.failure?.conflictConstraint == "recruiter_cities_city_id_fkey")
            let unknownRecruiter = try await database.read { uow throws in
                await uow.recruiters.assignCity(recruiterID: 999, cityID: kazan.id!)
            }
            #expect(unknownRecruiter.failure?.conflictConstraint == "recruiter_cities_recruiter_id_fkey")
            let cities = try await database.read { uow throws in
                try await uow.cities.getForRecruiter(recruiter.id!).get()
            }
            #expect(cities == [kazan, moscow])
            #expect(try await database.read { uow throws in try await uow.cities.getForRecruiter(999).get() } == [])
        }
    }

    @Test func activeRecruitersOfACity() async throws {
        try await withDatabase { database throws in
            let (anna, moscow) = try await database.seedRecruiterAndCity(recruiter: "Anna")
            let (boris, kazan) = try await database.seedRecruiterAndCity(recruiter: "Boris", city: "Kazan")
            let (carl, _) = try await database.seed { uow throws in
                let carl = try await uow.recruiters.add(Recruiter(name: "Carl", active: false)).get()
                let alla = try await uow.recruiters.add(Recruiter(name: "Alla")).get()
                _ = try await uow.recruiters.assignCity(recruiterID: carl.id!, cityID: moscow.id!).get()
                _ = try await uow.recruiters.assignCity(recruiterID: alla.id!, cityID: moscow.id!).get()
                return (carl, alla)
            }
            try await database.read { uow throws in
                let inMoscow = try await uow.recruiters.getActive(inCity: moscow.id!).get()
                #expect(inMoscow.map(\.name) == ["Alla", "Anna"])
                #expect(!inMoscow.contains { $0.id == carl.id })
                #expect(try await uow.recruiters.getActive(inCity: kazan.id!).get() == [boris])
                #expect(try await uow.recruiters.getActive(inCity: 999).get() == [])
                #expect(inMoscow.contains(anna))
            }
        }
    }

    @Test func citiesRoundTripAndValidateTimeZones() async throws {
        try await withDatabase { database throws in
            let city = try await database.seed { uow throws in
                try await uow.cities.add(City(name: "Vladivostok", timeZone: "Asia/Vladivostok")).get()
            }
            #expect(city.timeZone == "Asia/Vladivostok")
            #expect(city.active)
            try await database.read { uow throws in
                #expect(try await uow.cities.get(city.id!).get() == city)
                #expect(await uow.cities.get(999).failure == .notFound(entity: "City", id: "999"))
            }

            let unknown = try await database.read { uow throws in
                await uow.cities.add(City(name: "Atlantis", timeZone: "Atlantis/Capital"))
            }
            #expect(unknown.failure?.validationField == "cities_time_zone_valid")
            var moved = city
            moved.timeZone = "Mars/Olympus"
            let update = try await database.read { uow throws in await uow.cities.update(moved) }
            #expect(update.failure?.validationField == "cities_time_zone_valid")
            let duplicate = try await database.read { uow throws in
                await uow.cities.add(City(name: "Vladivostok", timeZone: "UTC"))
            }
            #expect(duplicate.failure?.conflictConstraint == "cities_name_key")
        }
    }

    @Test func activeCitiesByName() async throws {
        try await withDatabase { database throws in
            try await database.seed { uow throws in
                for (name, active) in [("Tomsk", true), ("Omsk", false), ("Kazan", true)] {
                    _ = try await uow.cities.add(City(name: name, timeZone: "Asia/Omsk", active: active)).get()
                }
            }
            let names = try await database.read { uow throws in try await uow.cities.getActive().get().map(\.name) }
            #expect(names == ["Kazan", "Tomsk"])
        }
    }
}
