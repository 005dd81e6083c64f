// The server's JSON reader and writer: order and number literals kept, bad input a positioned error.
import Testing
import SwiftletServer

@Test func parsesKeepingOrderAndNumberLiterals() throws {
    let v = try JSONValue.parse(#"{"b": 64.0, "a": [1, -2e3, true, null], "s": "\u00e9\ud83d\ude00\n"}"#)
    #expect(v.members?.map(\.0) == ["b", "a", "s"])
    #expect(v["b"] == .number("64.0") && v["b"]?.int == nil && v["b"]?.double == 64)
    #expect(v["a"]?.array?.first?.int == 1 && v["a"]?.array?[1].double == -2000)
    #expect(v["s"]?.string == "é😀\n")
    #expect(v.encoded == #"{"b":64.0,"a":[1,-2e3,true,null],"s":"é😀\n"}"#)
    #expect(try JSONValue.parse(v.encoded) == v)
}

@Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1} x", "\"\u{1}\"", "\"\\ud800\"", "nul"])
func malformedJSONIsAPositionedError(_ text: String) {
    #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
}

@Test func deepNestingIsAnErrorNotACrash() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect { try JSONValue.parse(deep) } throws: { "\($0)".contains("nested deeper") }
}

@Test func stopStringsAreHeldBackAndCut() {
    var f = StopFilter(stops: ["</s>", "STOP"])
    #expect(f.push("Hello <") == ("Hello ", false))
    #expect(f.push("/s") == ("", false))
    #expect(f.push("> more") == ("", true))
    #expect(f.emitted == "Hello " && f.hitStop)
    var g = StopFilter(stops: ["STOP"])
    #expect(g.push("ST") == ("", false))
    #expect(g.push("ART") == ("START", false))
    #expect(g.flush() == "" && g.emitted == "START")
}
