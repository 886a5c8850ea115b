import * as os from "os";
import { Testing } from "cdktf";
// Types of cdktf's jest matchers (toHaveResource, toHaveResourceWithProperties, ...).
import "cdktf/lib/testing/adapters/jest";

Testing.setupJest();

/**
 * The end-to-end test is the suite's longest path: every other test file's
 * worker, and what it starts, yields the CPU to it (a lower priority, which
 * needs no privilege). A worker that ran the end-to-end test first runs its
 * later files at that priority too.
 */
const END_TO_END = /\.e2e\.test\.ts$/;
const YIELDING_NICENESS = 5;
if (!END_TO_END.test(expect.getState().testPath ?? "") && os.getPriority() < YIELDING_NICENESS) os.setPriority(YIELDING_NICENESS);
