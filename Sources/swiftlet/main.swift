import SwiftletRuntime
print("hi")
