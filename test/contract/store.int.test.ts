import { storeFactories } from '../support/stores.js';
import { describeStore } from './describe-store.js';

for (const factory of storeFactories) describeStore(factory);
