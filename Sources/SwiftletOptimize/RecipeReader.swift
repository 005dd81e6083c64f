// Reads recipe and filter-map JSON, collecting every problem with its field path instead of stopping
// at the first.
import Foundation
import SwiftletCore

struct RecipeReader {
    var problems: [RecipeError.Problem] = []

    mutating func fail(_ field: String, _ message: String) {
        problems.append(RecipeError.Problem(field: field, message: message))
    }

    /// Throws the problems found so far, if any.
    func check(file: String? = nil) throws(RecipeError) {
        if !problems.isEmpty { throw RecipeError(file: file, problems: problems) }
    }

    static func path(_ base: String, _ key: String) -> String { base.isEmpty ? key : "\(base).\(key)" }

    /// The members of an object by key, with unknown and repeated keys reported; nil (reported) when
    /// `value` is not an object. `null` members read as absent.
    mutating func object(_ value: JSONValue, at field: String, keys: [String]) -> [String: JSONValue]? {
        guard let members = value.members else {
            fail(field, "expected an object, got \(Self.describe(value))")
            return nil
        }
        var out: [String: JSONValue] = [:]
        for (key, v) in members {
            if !keys.contains(key) {
                fail(Self.path(field, key), "unknown key (known keys: \(keys.joined(separator: ", ")))")
            } else if out[key] != nil {
                fail(Self.path(field, key), "given twice")
            } else if !v.isNull {
                out[key] = v
            }
        }
        return out
    }

    /// A string from a fixed set.
    mutating func choice(_ value: JSONValue?, at field: String, from choices: [String]) -> String? {
        let list = choices.joined(separator: ", ")
        guard let value else {
            fail(field, "missing (one of \(list))")
            return nil
        }
        guard let s = value.string, choices.contains(s) else {
            fail(field, "must be one of \(list), got \(Self.describe(value))")
            return nil
        }
        return s
    }

    mutating func number(_ value: JSONValue, at field: String) -> Double? {
        guard let d = value.double, d.isFinite else {
            fail(field, "expected a number, got \(Self.describe(value))")
            return nil
        }
        return d
    }

    mutating func integer(_ value: JSONValue, at field: String) -> Int? {
        guard let n = value.int else {
            fail(field, "expected an integer, got \(Self.describe(value))")
            return nil
        }
        return n
    }

    /// A value as quoted in a message (long ones cut).
    static func describe(_ value: JSONValue) -> String {
        let text = value.encoded
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// The JSON document in the file at `path`; an unreadable or malformed file is a RecipeError naming it.
    static func document(path: String) throws(RecipeError) -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RecipeError(file: path, problems: [.init(field: "", message: "cannot read the file (\(error.localizedDescription))")])
        }
        do {
            return try JSONValue.parse(data)
        } catch {
            throw RecipeError(file: path, problems: [.init(field: "", message: "not valid JSON: \(error)")])
        }
    }
}
