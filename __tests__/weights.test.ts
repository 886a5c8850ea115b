import { sameShares } from "../modules/config/weights";

describe("sameShares", () => {
  it.each([
    ["the same weights", { blue: 50, green: 50 }, { blue: 50, green: 50 }, true],
    ["weights in one proportion", { blue: 0, green: 50 }, { blue: 0, green: 100 }, true],
    ["three clusters in one proportion", { blue: 20, green: 60, purple: 40 }, { blue: 1, green: 3, purple: 2 }, true],
    ["other shares", { blue: 1, green: 99 }, { blue: 0, green: 100 }, false],
    ["shares a point apart at the top of the range", { blue: 998, green: 999 }, { blue: 999, green: 999 }, false],
    ["weights all 0 on both sides", { blue: 0, green: 0 }, { blue: 0, green: 0 }, true],
    ["weights all 0 on one side only", { blue: 0, green: 0 }, { blue: 0, green: 100 }, false],
    ["weights all 0 on the other side only", { blue: 50, green: 0 }, { blue: 0, green: 0 }, false],
    ["a cluster on one side only", { blue: 0, green: 100 }, { green: 100 }, false],
    ["another cluster of the same count", { blue: 0, green: 100 }, { green: 100, purple: 0 }, false],
  ])("%s: %j and %j → %s", (_, a, b, same) => {
    expect(sameShares(a, b)).toBe(same);
    expect(sameShares(b, a)).toBe(same);
  });
});
