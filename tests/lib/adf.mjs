// ADF validation for tests: `@atlaskit/adf-schema` `json-schema/v1/full.json` (draft-04, ajv-draft-04).
// The same validator the Jira simulator uses to reject invalid descriptions and comments, so a test
// can check what the app renders before it ever reaches the simulator.

export { validateAdf, adfToText, textToAdf } from '../../dev/jira-sim/adf.mjs';
