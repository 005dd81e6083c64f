// Decoding an input field from a manifest's `inputs` list, refusing fields that could never work
// (bounds on a string, a default outside its own bounds, a required field with a default, ...).

extension InputField {
    static let manifestKeys = ["name", "type", "default", "minimum", "maximum", "choices", "description", "required"]

    /// The field described by `object` (one element of `inputs`).
    init(manifest object: ManifestObject) throws {
        let name = try object.string("name")
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
            throw object.fail("name", "\"\(name)\" is not a field name (lower-case letters, digits and _, not starting with a digit)")
        }
        let type = try object.choice("type", InputFieldType.self)
        let minimum = try object.optionalNumber("minimum")
        let maximum = try object.optionalNumber("maximum")
        if !type.takesBounds {
            for key in ["minimum", "maximum"] where object.has(key) {
                throw object.fail(key, "only integer and number fields take bounds, not \(type.rawValue)")
            }
        }
        if let minimum, let maximum, minimum > maximum {
            throw object.fail("maximum", "\(InputField.bound(maximum).encoded) is below the minimum \(InputField.bound(minimum).encoded)")
        }
        let isRequired = try object.optionalBool("required") ?? false
        if isRequired, object.has("default") {
            throw object.fail("default", "a required field has no default (drop one of the two)")
        }

        // A field without choices and default checks each choice; then the field with its choices checks the default.
        let bare = InputField(name: name, type: type, minimum: minimum, maximum: maximum, isRequired: true)
        var choices: [JSONValue]?
        if let list = try object.optionalArray("choices") {
            guard type.takesChoices else { throw object.fail("choices", "\(type.rawValue) fields take no choices") }
            guard !list.isEmpty else { throw object.fail("choices", "an empty list allows no value at all") }
            choices = try list.enumerated().map { i, v in try bare.manifestValue(v, object, "choices[\(i)]") }
            for (i, v) in choices!.enumerated() where choices![..<i].contains(v) {
                throw object.fail("choices[\(i)]", "\(v.encoded) is listed twice")
            }
        }
        let withChoices = InputField(name: name, type: type, minimum: minimum, maximum: maximum, choices: choices,
                                     isRequired: true)
        let defaultValue = try object.value("default").map { try withChoices.manifestValue($0, object, "default") }
        self.init(name: name, type: type, defaultValue: defaultValue, minimum: minimum, maximum: maximum,
                  choices: choices, description: try object.optionalString("description"), isRequired: isRequired)
    }

    /// A value written in the manifest: of the field's JSON type as written (no "64" for an integer) and valid.
    private func manifestValue(_ v: JSONValue, _ object: ManifestObject, _ key: String) throws -> JSONValue {
        // Requests may send "64" for an integer (lax coercion); a manifest says what it means.
        if v.string != nil, type == .integer || type == .number {
            throw object.fail(key, "\(v.encoded) is not of type \"\(type.jsonType)\"")
        }
        switch check(v) {
        case .accepted(let value): return value
        case .rejected(let message): throw object.fail(key, message)
        }
    }
}
