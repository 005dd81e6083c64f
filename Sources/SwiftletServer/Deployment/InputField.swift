// One declared prediction input (name, type, default, bounds, choices) and the check of one value.

/// A prediction input field as a deployment manifest declares it.
public struct InputField: Sendable, Equatable {
    public let name: String
    public let type: InputFieldType
    /// The value used when the request leaves the field out; nil when there is none.
    public let defaultValue: JSONValue?
    public let minimum: Double?
    public let maximum: Double?
    /// The allowed values (already of the field's type), or nil for any value.
    public let choices: [JSONValue]?
    public let description: String?
    /// Must be given by the request (such a field has no default).
    public let isRequired: Bool

    public init(name: String, type: InputFieldType, defaultValue: JSONValue? = nil, minimum: Double? = nil,
                maximum: Double? = nil, choices: [JSONValue]? = nil, description: String? = nil,
                isRequired: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.description = description
        self.isRequired = isRequired
    }

    /// An optional field with no default: absent or explicit `null` gives `null` (cog's `Optional[T] = None`).
    public var isNullable: Bool { !isRequired && defaultValue == nil }

    /// The value to keep for `value` as sent, or the message saying why it is refused (coglet's wording).
    func check(_ value: JSONValue) -> FieldOutcome {
        if value.isNull {
            return isNullable ? .accepted(.null) : .notOfType(value, type.jsonType)
        }
        let coerced = type.coerce(value)
        guard case .accepted(let v) = coerced else { return coerced }
        if let choices, !choices.contains(v) {
            return .rejected("\(v.encoded) is not one of \(JSONValue.array(choices).encoded)")
        }
        if let d = v.double {
            if let minimum, d < minimum {
                return .rejected("\(v.encoded) is less than the minimum of \(Self.bound(minimum).encoded)")
            }
            if let maximum, d > maximum {
                return .rejected("\(v.encoded) is greater than the maximum of \(Self.bound(maximum).encoded)")
            }
        }
        return .accepted(v)
    }

    /// A bound as coglet writes it: integral values without a fraction (`2`, not `2.0`).
    static func bound(_ d: Double) -> JSONValue {
        d == d.rounded() && abs(d) < 1e15 ? .int(Int(d)) : .number("\(d)")
    }
}
