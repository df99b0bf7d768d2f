"""Good Alpaca-style records for the shipped sample, written for this project.

One tuple per record: (category, instruction, input, output). ``make_sample.py``
turns them into JSONL records, gives some of them extra fields, and interleaves
the planted defects between them. Every answer here is meant to be correct: the
sample is only useful if the clean part of it is actually clean.

Groups named in ``GROUPS`` are referred to by the generator's manifest (the
templated-but-different sentiment tasks, the correct arithmetic answers and the
outputs that legitimately cite a URL are near misses for rules).
"""

REWRITE = [
    ("rewrite", "Rewrite the sentence in the passive voice.", "The committee approved the new budget on Friday.",
     "The new budget was approved by the committee on Friday."),
    ("rewrite", "Rewrite the sentence in the active voice.", "The window was broken by a stray football.",
     "A stray football broke the window."),
    ("rewrite", "Make this sentence more concise.", "Due to the fact that it was raining heavily, we made the decision to postpone the picnic until a later date.",
     "Because it was raining heavily, we postponed the picnic."),
    ("rewrite", "Rewrite the following email so that it sounds more polite.", "Send me the report by tomorrow. I needed it last week.",
     "Could you please send me the report by tomorrow? I was hoping to have it last week, so I would really appreciate it if you could prioritise it. Thank you!"),
    ("rewrite", "Rewrite the sentence so that it is suitable for a formal business letter.", "We're super sorry the package showed up late, our bad.",
     "We sincerely apologise for the late delivery of your package."),
    ("rewrite", "Correct the grammar and spelling mistakes in the text.", "Their going to the libary tomorow to study for there exams.",
     "They're going to the library tomorrow to study for their exams."),
    ("rewrite", "Correct the grammatical errors in this sentence.", "Me and him was late because the bus don't come on time.",
     "He and I were late because the bus didn't come on time."),
    ("rewrite", "Paraphrase the following sentence.", "The early bird catches the worm.",
     "People who start their work early are the ones most likely to succeed."),
    ("rewrite", "Rewrite this paragraph for a ten-year-old reader.", "Photosynthesis is the process by which green plants use sunlight, water and carbon dioxide to produce glucose and release oxygen.",
     "Plants make their own food! They take in sunlight, water and a gas from the air called carbon dioxide, and turn them into sugar that helps them grow. While they do this, they breathe out oxygen, which is the air we need to breathe."),
    ("rewrite", "Change the tense of the paragraph from present to past.", "Maria walks to the market. She buys fresh bread and talks to the baker about the weather.",
     "Maria walked to the market. She bought fresh bread and talked to the baker about the weather."),
    ("rewrite", "Rewrite the headline so it is less sensational.", "SHOCKING: Local Cafe Raises Coffee Price by 20 Cents!",
     "Local cafe raises coffee price by 20 cents"),
    ("rewrite", "Turn this list of notes into a complete sentence.", "meeting moved - Thursday 3pm - room 204 - bring laptops",
     "The meeting has been moved to Thursday at 3 p.m. in room 204; please bring your laptops."),
    ("rewrite", "Rewrite the sentence using a simile.", "The runner was very fast.",
     "The runner was as fast as a cheetah chasing its prey."),
    ("rewrite", "Replace the underlined jargon with plain language: 'We need to leverage our synergies to move the needle.'", "",
     "We need to work together more effectively to make real progress."),
    ("rewrite", "Combine the two sentences into one using a conjunction.", "The museum was closed. We visited the park instead.",
     "The museum was closed, so we visited the park instead."),
    ("rewrite", "Rewrite the sentence to remove the double negative.", "I don't know nothing about the new schedule.",
     "I don't know anything about the new schedule."),
    ("rewrite", "Make the following product description more persuasive.", "This water bottle holds 750 ml and keeps drinks cold.",
     "Stay refreshed all day with this 750 ml insulated bottle: it keeps your drinks ice-cold for hours, whether you're at the gym, at your desk or on the trail."),
    ("rewrite", "Rewrite the sentence in the first person.", "She finished the marathon in just under four hours.",
     "I finished the marathon in just under four hours."),
    ("rewrite", "Convert this sentence into a question.", "The train to Edinburgh leaves at nine o'clock.",
     "Does the train to Edinburgh leave at nine o'clock?"),
    ("rewrite", "Rewrite the text in a more neutral tone.", "The mayor's ridiculous plan to close the library is a complete disaster for everyone.",
     "The mayor's plan to close the library has been criticised by residents who rely on it."),
    ("rewrite", "Shorten the following sentence to under ten words.", "In the event that you have any further questions, please do not hesitate to contact our support team.",
     "Contact our support team with any further questions."),
    ("rewrite", "Rewrite the sentence without using the letter 'e'.", "The cat sat near the door.",
     "A cat sat by a doorway."),
    ("rewrite", "Fix the punctuation in this sentence.", "lets eat grandma said the boy who was very hungry",
     "\"Let's eat, Grandma,\" said the boy, who was very hungry."),
    ("rewrite", "Rewrite this instruction as a numbered list of steps.", "To reset the router, unplug it, wait thirty seconds, plug it back in and wait for the lights to turn green.",
     "1. Unplug the router.\n2. Wait thirty seconds.\n3. Plug it back in.\n4. Wait until the lights turn green."),
    ("rewrite", "Rewrite the sentence so that it uses gender-neutral language.", "Every student must bring his own calculator to the exam.",
     "All students must bring their own calculators to the exam."),
]

SENTIMENT = "Classify the sentiment of the following review as positive, negative or neutral."

CLASSIFY_TEMPLATED = [
    ("classify", SENTIMENT, "The battery lasts all day and the screen is gorgeous. Best phone I've owned.", "Positive"),
    ("classify", SENTIMENT, "The food arrived cold and the waiter ignored us for twenty minutes.", "Negative"),
    ("classify", SENTIMENT, "The hotel was located near the station. Check-in was at 3 p.m.", "Neutral"),
    ("classify", SENTIMENT, "I was sceptical at first, but this blender has completely won me over.", "Positive"),
    ("classify", SENTIMENT, "The plot was predictable and the ending made no sense at all.", "Negative"),
    ("classify", SENTIMENT, "The package contained the charger, a cable and a short manual.", "Neutral"),
    ("classify", SENTIMENT, "Customer service replaced my broken headphones within two days. Impressive!", "Positive"),
    ("classify", SENTIMENT, "After one wash the shirt shrank two sizes. Never buying from them again.", "Negative"),
]

CLASSIFY = [
    ("classify", "Classify the following animals as mammals, birds or reptiles.", "dolphin, eagle, iguana, bat, penguin",
     "Mammals: dolphin, bat\nBirds: eagle, penguin\nReptiles: iguana"),
    ("classify", "Is the following statement a fact or an opinion?", "Chocolate ice cream is the best dessert in the world.",
     "Opinion. It expresses a personal preference that cannot be proven true or false."),
    ("classify", "Is the following statement a fact or an opinion?", "Water boils at 100 degrees Celsius at sea level.",
     "Fact. It can be verified by measurement."),
    ("classify", "Categorise the email as spam or not spam.", "Congratulations! You have been selected to receive a free cruise. Click now and enter your bank details to claim.",
     "Spam"),
    ("classify", "Categorise the email as spam or not spam.", "Hi Tom, attached are the minutes from Tuesday's meeting. Let me know if I missed anything.",
     "Not spam"),
    ("classify", "Identify the part of speech of the word in capitals.", "She QUICKLY finished her homework.",
     "Adverb"),
    ("classify", "Classify each fruit by its typical colour when ripe.", "banana, lime, strawberry, blueberry",
     "Banana: yellow\nLime: green\nStrawberry: red\nBlueberry: blue"),
    ("classify", "Decide whether the following number is prime or composite.", "91",
     "Composite. 91 = 7 × 13."),
    ("classify", "Decide whether the following number is prime or composite.", "97",
     "Prime. 97 has no divisors other than 1 and itself."),
    ("classify", "Classify the genre of the book from its description.", "A detective in 1920s London investigates a string of poisonings at a country house.",
     "Mystery (a historical crime novel)."),
    ("classify", "Identify whether the sentence is a question, a command, an exclamation or a statement.", "Please close the door behind you.",
     "A command."),
    ("classify", "Sort these items into renewable and non-renewable energy sources.", "coal, wind, solar, natural gas, hydroelectric, oil",
     "Renewable: wind, solar, hydroelectric\nNon-renewable: coal, natural gas, oil"),
    ("classify", "Label the customer message with the most suitable department: billing, technical support or sales.", "I was charged twice for my subscription this month.",
     "Billing"),
    ("classify", "Label the customer message with the most suitable department: billing, technical support or sales.", "The app crashes every time I try to upload a photo.",
     "Technical support"),
    ("classify", "Which of the following is the odd one out, and why?", "apple, carrot, pear, plum",
     "Carrot is the odd one out: it is a vegetable (a root), while the others are fruits."),
    ("classify", "Classify the sentence as formal or informal.", "Hey, wanna grab a bite later?",
     "Informal"),
    ("classify", "Determine whether the triangle with sides 3, 4 and 5 is acute, right or obtuse.", "",
     "Right. 3² + 4² = 9 + 16 = 25 = 5², so by the converse of Pythagoras' theorem the triangle has a right angle."),
]

SUMMARISE = [
    ("summarise", "Summarise the paragraph in one sentence.", "The city council met on Monday to discuss the proposed bike lanes on Main Street. Supporters argued that the lanes would reduce traffic and improve safety, while local shop owners worried that losing parking spaces would hurt their business. After three hours of debate, the council voted to run a six-month trial.",
     "After a long debate between cyclists and shop owners, the city council voted to trial bike lanes on Main Street for six months."),
    ("summarise", "Summarise the following text in two sentences.", "Honeybees communicate the location of food through a behaviour called the waggle dance. A forager returning to the hive moves in a figure-eight pattern, and the angle of the straight 'waggle' run relative to vertical tells the other bees the direction of the food relative to the sun. The duration of the waggle indicates how far away the food is.",
     "Honeybees use a figure-eight 'waggle dance' to tell hive mates where food is. The angle of the dance shows the direction relative to the sun, and its length shows the distance."),
    ("summarise", "Give a one-line summary of this product review.", "I bought these running shoes for a half marathon. They were comfortable from day one, with good cushioning, but the laces keep coming undone and the sole started to wear after about 300 km.",
     "Comfortable, well-cushioned running shoes let down by loose laces and a sole that wears quickly."),
    ("summarise", "Summarise the main idea of the passage.", "Sleep is not simply a period of rest. During deep sleep the brain consolidates memories, clears waste products that build up during the day, and regulates hormones involved in appetite and stress. Chronic lack of sleep has been linked to poorer concentration, weight gain and a weaker immune system.",
     "Sleep is an active process that the brain and body need for memory, cleaning out waste and hormone balance, and too little of it harms health."),
    ("summarise", "Write a short summary of the meeting notes.", "Attendees: Ana, Ben, Chloe. Discussed Q3 marketing budget; agreed to move 10% from print to online ads. Ben to draft new social media plan by 12 May. Chloe reported website traffic up 15% since redesign. Next meeting 19 May.",
     "Ana, Ben and Chloe agreed to shift 10% of the Q3 marketing budget from print to online ads. Ben will draft a social media plan by 12 May, and Chloe reported a 15% rise in website traffic after the redesign. The team meets again on 19 May."),
    ("summarise", "Summarise the story of Cinderella in three sentences.", "",
     "Cinderella is a kind young woman mistreated by her stepmother and stepsisters. With the help of her fairy godmother she attends the royal ball, where the prince falls in love with her, but she flees at midnight and leaves behind a glass slipper. The prince searches the kingdom, finds that the slipper fits Cinderella, and they marry."),
    ("summarise", "Condense the following instructions into a single tip.", "When you write a CV, keep it to two pages. Put your most recent job first. Use bullet points rather than long paragraphs, and start each bullet with an action verb such as 'led', 'built' or 'improved'.",
     "Keep your CV short and scannable: two pages, most recent job first, with bullet points that start with action verbs."),
    ("summarise", "Summarise the key points of the article in a bulleted list.", "Remote work has become common since 2020. Companies report savings on office space, and many employees value the flexibility and the lack of a commute. However, managers say that onboarding new staff is harder, and some workers report feeling isolated. Many firms are now trying hybrid arrangements with two or three office days a week.",
     "- Remote work has become widespread since 2020.\n- Companies save on office costs; employees value flexibility and no commute.\n- Onboarding and isolation are the main drawbacks.\n- Many firms are moving to hybrid schedules of two or three office days a week."),
    ("summarise", "Summarise the plot of Romeo and Juliet in no more than 50 words.", "",
     "Two young lovers from feuding families in Verona, Romeo Montague and Juliet Capulet, marry in secret. After Romeo kills Juliet's cousin and is banished, a plan to reunite them goes wrong: Romeo believes Juliet is dead and poisons himself, and Juliet, waking, stabs herself. Their deaths reconcile the families."),
    ("summarise", "Provide a TL;DR for the following message.", "Hi all, just a heads-up that the office will be closed next Monday for the bank holiday. The cleaners will come in on Tuesday morning instead, so please clear your desks by Friday evening. Also, the kitchen fridge will be emptied on Friday at 5 p.m., so take anything you want to keep.",
     "TL;DR: Office closed Monday; clear your desks and the fridge by Friday evening."),
    ("summarise", "Summarise the water cycle in four steps.", "",
     "1. Evaporation: the sun heats water in oceans, lakes and rivers, turning it into vapour.\n2. Condensation: the vapour cools in the atmosphere and forms clouds.\n3. Precipitation: water falls back to the ground as rain, snow or hail.\n4. Collection: the water gathers in rivers, lakes, oceans and groundwater, and the cycle begins again."),
    ("summarise", "Summarise this customer complaint for a support ticket title.", "I ordered a blue sofa on 2 March and was told it would arrive within two weeks. It's now 10 April, nobody answers the phone, and the tracking page has said 'processing' for a month.",
     "Sofa ordered 2 March not delivered; tracking stuck on 'processing', no phone response"),
    ("summarise", "Summarise the difference between weather and climate in one sentence.", "",
     "Weather is the short-term state of the atmosphere at a given time and place, while climate is the average pattern of weather in a region over many years."),
    ("summarise", "Write an abstract of two sentences for a study with these findings.", "Participants who walked for 30 minutes a day for 12 weeks reported lower stress scores than a control group. They also showed a small but significant improvement in sleep quality. There was no difference in body weight.",
     "In a 12-week study, participants who walked 30 minutes daily reported lower stress and slightly better sleep than a control group. Body weight did not differ between the groups."),
    ("summarise", "Summarise the life of Marie Curie in three sentences.", "",
     "Marie Curie (1867-1934) was a Polish-born physicist and chemist who did her pioneering research in France. She discovered the elements polonium and radium and developed the theory of radioactivity. She was the first woman to win a Nobel Prize and remains the only person to have won Nobel Prizes in two different sciences, physics and chemistry."),
]

EXPLAIN = [
    ("explain", "Explain why the sky is blue.", "",
     "Sunlight contains all colours of visible light. When it passes through the atmosphere, it is scattered by gas molecules, and shorter wavelengths are scattered much more strongly than longer ones (Rayleigh scattering). Blue light is therefore scattered across the whole sky and reaches our eyes from every direction, which makes the sky look blue. Violet is scattered even more, but the sun emits less of it and our eyes are less sensitive to it."),
    ("explain", "Explain how a vaccine trains the immune system.", "",
     "A vaccine exposes the immune system to a harmless version or piece of a pathogen, such as an inactivated virus or a protein from its surface. The immune system responds by producing antibodies and memory cells that recognise it. If the real pathogen later enters the body, these memory cells react quickly and strongly, often stopping the infection before it causes serious illness."),
    ("explain", "Explain the difference between a virus and a bacterium.", "",
     "Bacteria are single-celled living organisms that can reproduce on their own; many are harmless or even helpful, and bacterial infections can often be treated with antibiotics. Viruses are much smaller, are not cells, and can only reproduce by entering a host cell and using its machinery. Antibiotics do not work against viruses; antiviral drugs and vaccines are used instead."),
    ("explain", "Explain what inflation is to someone with no background in economics.", "",
     "Inflation means that prices in general are rising over time, so the same amount of money buys less than it used to. If inflation is 3% a year, something that costs 100 pounds today will cost about 103 pounds next year. A little inflation is normal in a growing economy, but high inflation makes it hard for people to plan and erodes their savings."),
    ("explain", "Explain how a bill becomes a law in the United States.", "",
     "A bill is introduced in either the House of Representatives or the Senate and sent to a committee, which studies it and may amend it. If the committee approves it, the full chamber debates and votes on it. The other chamber then goes through the same process. Once both chambers pass the same version, the bill goes to the President, who can sign it into law or veto it. Congress can override a veto with a two-thirds vote in both chambers."),
    ("explain", "Explain the concept of supply and demand.", "",
     "Supply is how much of a product sellers are willing to offer at each price, and demand is how much buyers want at each price. When demand rises and supply stays the same, prices tend to go up; when supply rises and demand stays the same, prices tend to fall. The market price settles where the quantity supplied equals the quantity demanded, called the equilibrium."),
    ("explain", "Explain why we have seasons on Earth.", "",
     "Seasons are caused by the tilt of Earth's axis, about 23.5 degrees. As Earth orbits the Sun, each hemisphere is tilted towards the Sun for part of the year, receiving more direct sunlight and longer days (summer), and tilted away for another part, receiving weaker, slanted sunlight and shorter days (winter). The distance from the Sun changes only slightly and is not the cause."),
    ("explain", "Explain what a black hole is in simple terms.", "",
     "A black hole is a region of space where matter is packed so tightly that gravity becomes extremely strong. Beyond a boundary called the event horizon, nothing, not even light, can escape. Many black holes form when very massive stars collapse at the end of their lives."),
    ("explain", "Explain how compound interest works, with an example.", "",
     "With compound interest you earn interest not only on the money you deposited but also on the interest already added. For example, if you put 1,000 dollars in an account paying 5% a year, after the first year you have 1,050 dollars. In the second year you earn 5% of 1,050, which is 52.50, giving 1,102.50 dollars. Over many years this snowball effect makes savings grow much faster than simple interest would."),
    ("explain", "Explain the purpose of the mitochondria in a cell.", "",
     "Mitochondria are the cell's power stations. They break down sugars and fats using oxygen in a process called cellular respiration, producing ATP, the molecule cells use as an energy source. They also help regulate cell death and have their own small set of DNA."),
    ("explain", "Explain what a recursive function is.", "",
     "A recursive function is a function that calls itself to solve a smaller version of the same problem. It needs a base case, where it returns an answer directly, and a recursive case, where it reduces the problem and calls itself. For example, the factorial of n can be defined as n times the factorial of n - 1, with the factorial of 0 equal to 1."),
    ("explain", "Explain why ice floats on water.", "",
     "When water freezes, its molecules arrange themselves into a hexagonal crystal structure held together by hydrogen bonds. This structure keeps the molecules farther apart than in liquid water, so ice is about 9% less dense than water. Because it is less dense, it floats."),
    ("explain", "Explain the difference between 'affect' and 'effect'.", "",
     "'Affect' is usually a verb meaning to influence something: 'The weather affected our plans.' 'Effect' is usually a noun meaning a result: 'The new law had a big effect.' A handy memory aid is that affect is the action and effect is the end result. (Less commonly, 'effect' can be a verb meaning to bring about, as in 'to effect change'.)"),
    ("explain", "Explain how a refrigerator keeps food cold.", "",
     "A refrigerator moves heat from the inside to the outside using a refrigerant. The refrigerant evaporates in coils inside the fridge, absorbing heat from the food compartment. A compressor then squeezes the gas, raising its temperature, and it releases that heat through coils at the back of the fridge as it condenses back into a liquid. The cycle repeats continuously."),
    ("explain", "Explain what the greenhouse effect is.", "",
     "The greenhouse effect is the warming of Earth's surface caused by gases in the atmosphere, such as carbon dioxide, methane and water vapour. Sunlight passes through the atmosphere and warms the ground, which then emits heat as infrared radiation. Greenhouse gases absorb part of that radiation and send some of it back down, keeping the planet warmer than it would otherwise be. Adding more of these gases strengthens the effect and leads to global warming."),
    ("explain", "Explain in two sentences why the Roman Empire split into East and West.", "",
     "By the third century the empire had become too large to govern and defend from a single capital, so emperors began dividing administration between co-rulers. The division became permanent in 395 AD, when Theodosius I died and the empire passed to his two sons, one ruling from Rome and the other from Constantinople."),
    ("explain", "Explain how GPS determines your location.", "",
     "GPS receivers listen to signals from several satellites, each of which broadcasts its position and the exact time the signal was sent. By measuring how long each signal took to arrive, the receiver calculates its distance from each satellite. With signals from at least four satellites it can work out its position in three dimensions and correct for errors in its own clock, a process called trilateration."),
    ("explain", "What is the difference between RAM and storage?", "",
     "RAM (random-access memory) is fast, temporary memory that holds the programs and data a computer is using right now; its contents are lost when the power is turned off. Storage, such as an SSD or hard drive, is slower but keeps data permanently, including your files, applications and the operating system. More RAM lets you run more things at once, while more storage lets you keep more files."),
    ("explain", "Explain what an API is using an analogy.", "",
     "An API is like a waiter in a restaurant. You (one program) don't go into the kitchen (another system) to cook your meal; you give your order to the waiter, who takes it to the kitchen and brings back your food. Likewise, an API takes a request from one program, passes it to another system in a format it understands, and returns the response."),
    ("explain", "Explain why leaves change colour in autumn.", "",
     "Leaves are green because of chlorophyll, which plants use for photosynthesis. In autumn, as days get shorter and cooler, trees stop producing chlorophyll and it breaks down. This reveals yellow and orange pigments (carotenoids) that were there all along, and some trees also produce red and purple pigments (anthocyanins) from sugars trapped in the leaves."),
    ("explain", "Explain the rule of thirds in photography.", "",
     "The rule of thirds divides an image into a three-by-three grid using two horizontal and two vertical lines. Placing important elements along these lines or at their intersections, rather than in the centre, usually creates a more balanced and interesting composition. For example, a horizon often looks better on the upper or lower line than across the middle."),
    ("explain", "Explain what a hash table is and why lookups are fast.", "",
     "A hash table stores key-value pairs in an array. A hash function turns each key into an index in that array, so to find a value the program computes the key's hash and jumps straight to that slot instead of searching through every entry. When two keys land in the same slot (a collision), the table uses a strategy such as chaining or probing. On average, insertion and lookup take constant time."),
    ("explain", "Explain why the Moon has phases.", "",
     "The Moon does not produce its own light; we see the half lit by the Sun. As the Moon orbits Earth about once every 29.5 days, we see different portions of that sunlit half. When the Moon is between Earth and the Sun we see almost none of it (new moon); when it is on the opposite side we see the whole lit face (full moon), with crescents, quarters and gibbous phases in between."),
    ("explain", "Explain the meaning of the idiom 'to bite off more than you can chew'.", "",
     "It means to take on more work or responsibility than you can manage. For example: 'By agreeing to organise the whole conference alone, she bit off more than she could chew.'"),
    ("explain", "Explain how a bicycle stays upright when moving.", "",
     "A moving bicycle stays upright mainly because the rider and the bike's geometry keep steering it under its centre of mass. When the bike starts to lean, the front wheel turns slightly in the direction of the lean, which brings the wheels back underneath the rider. The trail of the front fork and the gyroscopic effect of the wheels help this self-correction, which is why a bike is much easier to balance at speed than when standing still."),
    ("explain", "Explain what 'opportunity cost' means.", "",
     "Opportunity cost is the value of the best alternative you give up when you make a choice. If you spend a Saturday working an extra shift instead of studying for an exam, the opportunity cost of the extra pay is the study time, and perhaps the better grade, that you gave up."),
    ("explain", "Explain the difference between weathering and erosion.", "",
     "Weathering is the breaking down of rock into smaller pieces where it stands, by water, ice, temperature changes, plants or chemical reactions. Erosion is the movement of those pieces from one place to another by wind, water, ice or gravity. Weathering breaks rock apart; erosion carries it away."),
    ("explain", "Explain what a 'null hypothesis' is in statistics.", "",
     "The null hypothesis is the default assumption that there is no effect or no difference, for example that a new drug works no better than a placebo. A statistical test measures how likely the observed data would be if the null hypothesis were true. If that probability (the p-value) is very small, researchers reject the null hypothesis in favour of the alternative."),
    ("explain", "Why do cats purr?", "",
     "Cats purr most often when they are content, for example while being stroked, but they also purr when stressed, injured or giving birth. Scientists think purring is a form of communication and self-soothing. The vibrations, produced by rapid twitching of the muscles in the larynx at roughly 25 to 150 hertz, may also help with healing bones and tissues."),
    ("explain", "Explain how a search engine ranks web pages, in simple terms.", "",
     "A search engine first crawls the web and builds an index of the words on each page. When you search, it finds pages that match your words and ranks them using many signals: how relevant the text is to your query, how many trustworthy pages link to it, how recent and well-structured it is, and how useful other users have found it. The pages with the best combined score appear at the top."),
]

BRAINSTORM = [
    ("brainstorm", "Brainstorm five names for a neighbourhood bakery.", "",
     "1. The Rising Crust\n2. Flour & Fern\n3. Corner Loaf\n4. Morning Crumb\n5. The Daily Knead"),
    ("brainstorm", "List five ways to reduce plastic waste at home.", "",
     "1. Carry reusable shopping bags.\n2. Use a refillable water bottle instead of buying bottled water.\n3. Buy loose fruit and vegetables rather than pre-packaged ones.\n4. Store leftovers in glass containers instead of cling film.\n5. Choose bar soap and shampoo bars over liquid products in plastic bottles."),
    ("brainstorm", "Suggest three themes for a child's eighth birthday party.", "",
     "1. Space adventure: rocket decorations, a 'moon rock' treasure hunt and star-shaped cookies.\n2. Dinosaur dig: a sandpit excavation for toy fossils and a volcano cake.\n3. Pirate island: a map-based scavenger hunt, eye patches and a treasure-chest piñata."),
    ("brainstorm", "Generate four interview questions for a junior software developer.", "",
     "1. Tell me about a project you built. What was the hardest bug and how did you fix it?\n2. How would you explain the difference between a list and a dictionary in Python?\n3. How do you approach learning a new tool or library?\n4. Describe a time you received feedback on your code. What did you change?"),
    ("brainstorm", "List six indoor activities for a rainy day.", "",
     "1. Bake bread or cookies.\n2. Build a blanket fort and read in it.\n3. Do a jigsaw puzzle.\n4. Have a board game tournament.\n5. Try a new recipe for dinner.\n6. Write and perform a short play."),
    ("brainstorm", "Come up with three taglines for an eco-friendly cleaning product.", "",
     "1. \"Clean home, clean planet.\"\n2. \"Tough on grime, gentle on Earth.\"\n3. \"Sparkle without the guilt.\""),
    ("brainstorm", "Suggest five topics for a high school science fair project.", "",
     "1. How does the temperature of water affect how fast sugar dissolves?\n2. Which household material is the best insulator?\n3. Do plants grow faster under coloured light?\n4. How does the shape of a paper airplane affect how far it flies?\n5. Which brand of paper towel absorbs the most water?"),
    ("brainstorm", "List the ingredients needed for a basic pancake batter.", "",
     "- 200 g plain flour\n- 2 eggs\n- 300 ml milk\n- 1 tablespoon melted butter or oil\n- A pinch of salt\n- 1 teaspoon baking powder (for fluffy American-style pancakes)"),
    ("brainstorm", "Give me four ideas for a weekend trip without a car.", "",
     "1. Take the train to a nearby city and explore its museums on foot.\n2. Go on a cycling tour along a river path, staying at a guesthouse overnight.\n3. Book a hiking weekend reachable by bus, such as a national park with a hostel.\n4. Catch a ferry to an island and spend the days on the beach."),
    ("brainstorm", "Name five famous paintings and their artists.", "",
     "1. Mona Lisa - Leonardo da Vinci\n2. The Starry Night - Vincent van Gogh\n3. The Persistence of Memory - Salvador Dalí\n4. Girl with a Pearl Earring - Johannes Vermeer\n5. The Birth of Venus - Sandro Botticelli"),
    ("brainstorm", "List five questions to ask when viewing a flat to rent.", "",
     "1. What is included in the rent (bills, internet, furniture)?\n2. How much is the deposit, and how is it protected?\n3. How long is the tenancy, and can it be extended?\n4. Who do I contact for repairs, and how quickly are they handled?\n5. Are there any restrictions on pets, guests or decorating?"),
    ("brainstorm", "Suggest three ways a small library could attract more teenage visitors.", "",
     "1. Host regular gaming nights with board games and consoles.\n2. Create a teen advisory group that chooses new books and events.\n3. Offer after-school study spaces with free Wi-Fi and homework help."),
    ("brainstorm", "Generate a list of five healthy snacks for work.", "",
     "1. A handful of unsalted nuts\n2. Carrot and cucumber sticks with hummus\n3. Greek yoghurt with berries\n4. An apple with peanut butter\n5. Wholegrain crackers with cheese"),
    ("brainstorm", "Name four planets in our solar system that have rings.", "",
     "Jupiter, Saturn, Uranus and Neptune all have ring systems, although Saturn's are by far the most visible."),
    ("brainstorm", "List the seven continents.", "",
     "Africa, Antarctica, Asia, Australia (Oceania), Europe, North America and South America."),
    ("brainstorm", "Suggest five ways to practise a new language every day.", "",
     "1. Change your phone's language setting.\n2. Listen to a podcast in the language on your commute.\n3. Write a three-sentence diary entry each evening.\n4. Review vocabulary with spaced-repetition flashcards.\n5. Have a short weekly conversation with a language exchange partner."),
    ("brainstorm", "Come up with three plot ideas for a short mystery story.", "",
     "1. A lighthouse keeper finds a message in a bottle that describes a crime that hasn't happened yet.\n2. Every clock in a small village stops at the same minute, and the only person who noticed is the new postwoman.\n3. A librarian discovers that someone has been returning books with one page carefully removed."),
    ("brainstorm", "List four benefits of regular exercise.", "",
     "1. It strengthens the heart and lowers blood pressure.\n2. It improves mood and reduces symptoms of anxiety and depression.\n3. It helps maintain a healthy weight.\n4. It builds muscle and bone strength, reducing the risk of injury in later life."),
    ("brainstorm", "Name three programming languages commonly used for data analysis.", "",
     "Python, R and SQL."),
    ("brainstorm", "Suggest four ways to make a long car journey with children more enjoyable.", "",
     "1. Plan breaks every two hours at places where they can run around.\n2. Download audiobooks or podcasts the whole family can enjoy.\n3. Play games such as I Spy or the number-plate alphabet game.\n4. Pack a bag of small surprises to hand out at milestones along the way."),
    ("brainstorm", "List five essential items for a first-aid kit.", "",
     "1. Adhesive plasters in several sizes\n2. Sterile gauze pads and bandages\n3. Antiseptic wipes\n4. Disposable gloves\n5. Tweezers and small scissors"),
    ("brainstorm", "Brainstorm three names for a podcast about personal finance for students.", "",
     "1. Broke No More\n2. The Ramen Budget\n3. Campus Cash"),
    ("brainstorm", "Generate five adjectives to describe the ocean.", "",
     "Vast, restless, deep, shimmering, mysterious."),
    ("brainstorm", "List four signs that a houseplant is being overwatered.", "",
     "1. Yellowing lower leaves\n2. Soil that stays wet for days\n3. A musty smell or mould on the soil surface\n4. Soft, brown or mushy roots"),
    ("brainstorm", "Suggest three icebreaker questions for a team meeting.", "",
     "1. What is the best thing you ate this week?\n2. If you could instantly master one skill, what would it be?\n3. What was your first job?"),
]

MATH = [
    ("math", "A shop sells pencils for 35 cents each. How much do 12 pencils cost?", "",
     "12 × 35 cents = 420 cents, so 12 pencils cost $4.20."),
    ("math", "A train travels 240 km in 3 hours. What is its average speed?", "",
     "Average speed = distance ÷ time = 240 km ÷ 3 h = 80 km/h."),
    ("math", "Tom has 48 stickers and gives a quarter of them to his sister. How many stickers does he have left?", "",
     "A quarter of 48 is 48 ÷ 4 = 12. Tom has 48 - 12 = 36 stickers left."),
    ("math", "What is 15% of 80?", "",
     "15% of 80 = 0.15 × 80 = 12."),
    ("math", "Find the area and perimeter of a rectangle that is 7 m long and 4.5 m wide.", "",
     "Area = 7 × 4.5 = 31.5 m². Perimeter = 2 × (7 + 4.5) = 23 m."),
    ("math", "Solve for x: 3x + 7 = 22.", "",
     "Subtract 7 from both sides: 3x = 15. Divide by 3: x = 5."),
    ("math", "A recipe uses 250 g of flour to make 10 cookies. How much flour is needed for 24 cookies?", "",
     "Each cookie needs 250 ÷ 10 = 25 g of flour, so 24 cookies need 24 × 25 = 600 g."),
    ("math", "Find the mean of the numbers.", "12, 15, 20, 9, 14",
     "The sum is 12 + 15 + 20 + 9 + 14 = 70. There are 5 numbers, so the mean is 70 ÷ 5 = 14."),
    ("math", "A jacket costs $80 and is on sale for 25% off. What is the sale price?", "",
     "The discount is 25% of $80 = $20, so the sale price is $80 - $20 = $60."),
    ("math", "If 3 notebooks cost $7.50, how much do 8 notebooks cost?", "",
     "One notebook costs $7.50 ÷ 3 = $2.50, so 8 notebooks cost 8 × $2.50 = $20.00."),
    ("math", "A car uses 6 litres of fuel per 100 km. How much fuel does it need for a 350 km trip?", "",
     "350 km is 3.5 times 100 km, so the car needs 3.5 × 6 = 21 litres."),
    ("math", "Sam reads 25 pages a day. How many days will it take him to read a 400-page book?", "",
     "400 ÷ 25 = 16, so it will take Sam 16 days."),
    ("math", "Calculate the simple interest on $2,000 at 4% per year for 3 years.", "",
     "Simple interest = principal × rate × time = 2,000 × 0.04 × 3 = $240. The total after 3 years is $2,240."),
    ("math", "What is the square root of 169?", "",
     "The square root of 169 is 13, because 13 × 13 = 169."),
    ("math", "Write 7/8 as a decimal and as a percentage.", "",
     "7 ÷ 8 = 0.875, which is 87.5%."),
    ("math", "A class has 30 students, and 18 of them are girls. What is the ratio of boys to girls in its simplest form?", "",
     "There are 30 - 18 = 12 boys. The ratio of boys to girls is 12:18, which simplifies to 2:3."),
    ("math", "Convert 72 degrees Fahrenheit to Celsius.", "",
     "C = (F - 32) × 5/9 = (72 - 32) × 5/9 = 40 × 5/9 ≈ 22.2 °C."),
    ("math", "What is the probability of rolling a total of 7 with two fair six-sided dice?", "",
     "There are 36 equally likely outcomes, and 6 of them sum to 7: (1,6), (2,5), (3,4), (4,3), (5,2), (6,1). The probability is 6/36 = 1/6."),
    ("math", "A bakery makes 144 rolls and packs them in bags of 6. How many bags does it fill?", "",
     "144 ÷ 6 = 24 bags."),
    ("math", "A meeting starts at 9:45 and lasts 1 hour and 50 minutes. When does it end?", "",
     "9:45 plus 1 hour is 10:45, and 50 more minutes is 11:35. The meeting ends at 11:35."),
    ("math", "A square has an area of 64 cm². What is its perimeter?", "",
     "The side length is √64 = 8 cm, so the perimeter is 4 × 8 = 32 cm."),
    ("math", "Find the least common multiple of 4 and 6.", "",
     "Multiples of 4: 4, 8, 12, ... Multiples of 6: 6, 12, ... The least common multiple is 12."),
]

ARITHMETIC_CORRECT = [
    ("math", "Calculate 23 × 17.", "", "23 × 17 = 391"),
    ("math", "Add the two numbers.", "1,250 and 3,875", "1,250 + 3,875 = 5,125"),
    ("math", "What is 456 - 289?", "", "456 - 289 = 167"),
    ("math", "Divide 144 by 12.", "", "144 / 12 = 12"),
    ("math", "What is 2 to the power of 10?", "", "2^10 = 1024"),
    ("math", "Evaluate the expression.", "(8 + 4) * 3 - 6", "(8 + 4) * 3 - 6 = 12 * 3 - 6 = 36 - 6 = 30"),
]

CODE = [
    ("code", "Write a Python function that checks whether a string is a palindrome, ignoring case and spaces.", "",
     '''def is_palindrome(text: str) -> bool:
    cleaned = "".join(ch.lower() for ch in text if not ch.isspace())
    return cleaned == cleaned[::-1]


print(is_palindrome("Never odd or even"))  # True'''),
    ("code", "Write a Python function that returns the n-th Fibonacci number.", "",
     '''def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number, with fibonacci(0) == 0."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a'''),
    ("code", "Write a Python function that counts how often each word appears in a text.", "",
     '''from collections import Counter


def word_counts(text: str) -> Counter:
    words = [word.strip(".,!?;:").lower() for word in text.split()]
    return Counter(word for word in words if word)


print(word_counts("The cat and the hat."))  # Counter({'the': 2, 'cat': 1, 'and': 1, 'hat': 1})'''),
    ("code", "Write a SQL query that returns the ten most recent orders from an `orders` table with columns id, customer_id, total and created_at.", "",
     '''SELECT id, customer_id, total, created_at
FROM orders
ORDER BY created_at DESC
LIMIT 10;'''),
    ("code", "Write a SQL query to find the total sales per customer, highest first.", "Table sales(customer_id, amount)",
     '''SELECT customer_id, SUM(amount) AS total_sales
FROM sales
GROUP BY customer_id
ORDER BY total_sales DESC;'''),
    ("code", "Write a SQL query that lists employees who earn more than the average salary.", "Table employees(id, name, salary, department)",
     '''SELECT name, salary
FROM employees
WHERE salary > (SELECT AVG(salary) FROM employees)
ORDER BY salary DESC;'''),
    ("code", "Write a JavaScript function that returns the largest number in an array.", "",
     '''function largest(numbers) {
  if (numbers.length === 0) {
    throw new Error("array is empty");
  }
  return Math.max(...numbers);
}

console.log(largest([3, 17, 8, 42, 5])); // 42'''),
    ("code", "Write a JavaScript function that capitalises the first letter of every word in a sentence.", "",
     '''function titleCase(sentence) {
  return sentence
    .split(" ")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join(" ");
}

console.log(titleCase("the quick brown fox")); // "The Quick Brown Fox"'''),
    ("code", "Write a Python function that removes duplicates from a list while keeping the original order.", "",
     '''def unique_in_order(items: list) -> list:
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


print(unique_in_order([3, 1, 3, 2, 1]))  # [3, 1, 2]'''),
    ("code", "Fix the bug in this Python code.", '''def average(numbers):
    return sum(numbers) / len(numbers) + 1''',
     '''The function adds 1 to the result, which is wrong. The corrected version also avoids dividing by zero for an empty list:

def average(numbers):
    if not numbers:
        raise ValueError("cannot average an empty list")
    return sum(numbers) / len(numbers)'''),
    ("code", "Explain what this Python code does.", '''squares = [n * n for n in range(1, 6) if n % 2 == 1]''',
     "It builds a list of the squares of the odd numbers from 1 to 5 using a list comprehension. range(1, 6) yields 1 to 5, the condition keeps 1, 3 and 5, and the result is [1, 9, 25]."),
    ("code", "Write a Python script that reads a CSV file called `people.csv` and prints the average of the `age` column.", "",
     '''import csv

with open("people.csv", newline="", encoding="utf-8") as handle:
    ages = [float(row["age"]) for row in csv.DictReader(handle) if row["age"]]

if ages:
    print(f"Average age: {sum(ages) / len(ages):.1f}")
else:
    print("No ages found.")'''),
    ("code", "Write a Python class representing a bank account with deposit and withdraw methods.", "",
     '''class BankAccount:
    def __init__(self, owner: str, balance: float = 0.0) -> None:
        self.owner = owner
        self.balance = balance

    def deposit(self, amount: float) -> None:
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self.balance += amount

    def withdraw(self, amount: float) -> None:
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount'''),
    ("code", "Write a JavaScript snippet that fetches JSON from an API endpoint and logs the result, handling errors.", "",
     '''async function loadJson(url) {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    const data = await response.json();
    console.log(data);
  } catch (error) {
    console.error("Request failed:", error.message);
  }
}'''),
    ("code", "Write a SQL statement that creates a table for storing books with a title, author, year and ISBN.", "",
     '''CREATE TABLE books (
    id      INTEGER PRIMARY KEY,
    title   TEXT NOT NULL,
    author  TEXT NOT NULL,
    year    INTEGER,
    isbn    CHAR(13) UNIQUE
);'''),
    ("code", "Write a Python function that converts a temperature from Celsius to Fahrenheit.", "",
     '''def celsius_to_fahrenheit(celsius: float) -> float:
    return celsius * 9 / 5 + 32


print(celsius_to_fahrenheit(25))  # 77.0'''),
    ("code", "Write a Python function that checks whether a number is prime.", "",
     '''def is_prime(n: int) -> bool:
    if n < 2:
        return False
    divisor = 2
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 1
    return True'''),
    ("code", "Rewrite this loop as a list comprehension.", '''result = []
for word in words:
    if len(word) > 3:
        result.append(word.upper())''',
     '''result = [word.upper() for word in words if len(word) > 3]'''),
    ("code", "Write a JavaScript function that debounces another function.", "",
     '''function debounce(fn, delayMs) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), delayMs);
  };
}

// Usage: only search 300 ms after the user stops typing.
const onInput = debounce((text) => search(text), 300);'''),
    ("code", "Write a SQL query that counts the number of customers in each country, showing only countries with more than 5 customers.", "Table customers(id, name, country)",
     '''SELECT country, COUNT(*) AS customer_count
FROM customers
GROUP BY country
HAVING COUNT(*) > 5
ORDER BY customer_count DESC;'''),
    ("code", "Write a Python function that merges two sorted lists into one sorted list.", "",
     '''def merge_sorted(left: list, right: list) -> list:
    merged = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged'''),
    ("code", "What is the time complexity of binary search, and why?", "",
     "O(log n). Each comparison halves the part of the sorted list that can still contain the target, so after k steps only n / 2^k elements remain; the search ends when that reaches 1, which takes about log2(n) steps."),
    ("code", "Write a Python function that returns the factorial of a non-negative integer using recursion.", "",
     '''def factorial(n: int) -> int:
    if n < 0:
        raise ValueError("n must be non-negative")
    if n == 0:
        return 1
    return n * factorial(n - 1)'''),
    ("code", "Write a JavaScript function that checks whether two strings are anagrams.", "",
     '''function areAnagrams(a, b) {
  const normalise = (s) => s.toLowerCase().replace(/[^a-z]/g, "").split("").sort().join("");
  return normalise(a) === normalise(b);
}

console.log(areAnagrams("Listen", "Silent")); // true'''),
    ("code", "Write a SQL query that joins an orders table to a customers table and shows each order with the customer's name.", "orders(id, customer_id, total), customers(id, name)",
     '''SELECT o.id AS order_id, c.name AS customer_name, o.total
FROM orders AS o
JOIN customers AS c ON c.id = o.customer_id
ORDER BY o.id;'''),
    ("code", "Write a Python function that flattens a list of lists by one level.", "",
     '''def flatten(nested: list[list]) -> list:
    return [item for inner in nested for item in inner]


print(flatten([[1, 2], [3], [], [4, 5]]))  # [1, 2, 3, 4, 5]'''),
    ("code", "Explain the difference between `==` and `===` in JavaScript.", "",
     "`==` compares two values after converting them to a common type, so `0 == \"0\"` is true. `===` compares both value and type without any conversion, so `0 === \"0\"` is false. Using `===` avoids surprising results and is generally recommended."),
    ("code", "Write a Python function that returns the most common element of a list.", "",
     '''from collections import Counter


def most_common(items: list):
    if not items:
        raise ValueError("empty list")
    return Counter(items).most_common(1)[0][0]'''),
    ("code", "Write a Python snippet that writes a dictionary to a JSON file with indentation.", "",
     '''import json

settings = {"theme": "dark", "font_size": 14, "autosave": True}
with open("settings.json", "w", encoding="utf-8") as handle:
    json.dump(settings, handle, indent=2)'''),
    ("code", "Write a SQL query that deletes users who have not logged in since 1 January 2020.", "Table users(id, email, last_login)",
     '''DELETE FROM users
WHERE last_login < '2020-01-01';'''),
]

EXTRACT = [
    ("extract", "Extract all the dates mentioned in the text.", "The contract was signed on 4 March 2021, amended on 12 July 2022 and expires on 31 December 2025.",
     "4 March 2021, 12 July 2022, 31 December 2025"),
    ("extract", "Extract the names of the people mentioned in the passage.", "At the launch, Priya Shah thanked her co-founder Daniel Okafor and the investor Mei Lin for their support.",
     "Priya Shah, Daniel Okafor, Mei Lin"),
    ("extract", "Find the email address in the following text.", "For questions about your order, write to orders@greenleaf-shop.example or call us on weekdays.",
     "orders@greenleaf-shop.example"),
    ("extract", "Extract the key information from the job advert as a list.", "We are hiring a part-time barista (20 hours a week) in Leeds. Pay is 11.50 pounds an hour. Experience preferred but not required. Apply by 30 June.",
     "- Role: barista\n- Hours: part-time, 20 hours a week\n- Location: Leeds\n- Pay: 11.50 pounds an hour\n- Experience: preferred, not required\n- Deadline: 30 June"),
    ("extract", "List the ingredients mentioned in this recipe step.", "Fry the onion and garlic in olive oil, then add the chopped tomatoes, a pinch of salt and a handful of fresh basil.",
     "Onion, garlic, olive oil, chopped tomatoes, salt, fresh basil"),
    ("extract", "Identify the main verb in the sentence.", "The old lighthouse on the hill guided ships safely for over a century.",
     "guided"),
    ("extract", "Extract the city and the country from the address.", "Rua das Flores 120, 4050-262 Porto, Portugal",
     "City: Porto\nCountry: Portugal"),
    ("extract", "Pull out every number in the text and say what it refers to.", "The marathon had 1,200 runners, the winner finished in 2 hours 11 minutes, and 94 volunteers staffed 8 water stations.",
     "- 1,200: number of runners\n- 2 hours 11 minutes: the winner's time\n- 94: number of volunteers\n- 8: number of water stations"),
    ("extract", "Extract the product names and prices as a table.", "The Nimbus lamp costs 45 euros, the Atlas desk is 210 euros and the Cirrus chair sells for 130 euros.",
     "| Product | Price |\n| --- | --- |\n| Nimbus lamp | 45 euros |\n| Atlas desk | 210 euros |\n| Cirrus chair | 130 euros |"),
    ("extract", "What is the main topic of the following paragraph? Answer in a few words.", "Coral reefs cover less than one percent of the ocean floor but support about a quarter of all marine species. Rising sea temperatures cause corals to expel the algae that live in them, a process called bleaching, which can kill entire reefs.",
     "The threat of bleaching to coral reefs."),
    ("extract", "Identify the adjectives in the sentence.", "The tired hikers rested beside a cold, clear stream.",
     "tired, cold, clear"),
    ("extract", "Extract the action items from the email.", "Hi team, thanks for today. Could Leo please book the venue for the workshop, and could Sara send the draft agenda to everyone by Wednesday? I'll follow up with the caterers.",
     "1. Leo: book the workshop venue.\n2. Sara: send the draft agenda to everyone by Wednesday.\n3. Sender: follow up with the caterers."),
    ("extract", "Find the capital cities mentioned in the text.", "Our tour started in Vienna, continued by train to Salzburg and Budapest, and ended in Prague.",
     "Vienna, Budapest and Prague are capital cities (of Austria, Hungary and the Czech Republic). Salzburg is not a capital."),
    ("extract", "Extract the subject of the sentence.", "After the storm, the small fishing boats returned to the harbour.",
     "the small fishing boats"),
    ("extract", "Convert the following information into JSON.", "Name: Jonas Berg, Age: 34, City: Oslo, Languages: Norwegian, English",
     '''{
  "name": "Jonas Berg",
  "age": 34,
  "city": "Oslo",
  "languages": ["Norwegian", "English"]
}'''),
]

TRANSLATE = [
    ("translate", "Translate the following sentence into English.", "Je voudrais réserver une table pour deux personnes ce soir.",
     "I would like to book a table for two people tonight."),
    ("translate", "Translate the following sentence into English.", "¿Dónde está la estación de tren más cercana?",
     "Where is the nearest train station?"),
    ("translate", "Translate the following sentence into English.", "Ich habe meinen Regenschirm im Bus vergessen.",
     "I left my umbrella on the bus."),
    ("translate", "Translate this Italian phrase into English.", "Non vedo l'ora di vederti.",
     "I can't wait to see you."),
    ("translate", "Translate the sign into English.", "Prière de ne pas marcher sur la pelouse.",
     "Please do not walk on the grass."),
    ("translate", "What does this Spanish proverb mean in English?", "Más vale tarde que nunca.",
     "Literally 'it is worth more late than never', that is, 'Better late than never.'"),
    ("translate", "Translate the following Portuguese sentence into English.", "O museu fica aberto até às seis da tarde.",
     "The museum is open until six in the evening."),
    ("translate", "Translate into English.", "Wir treffen uns morgen um halb acht vor dem Kino.",
     "We are meeting tomorrow at half past seven in front of the cinema."),
    ("translate", "Translate the menu item into English.", "Soupe à l'oignon gratinée",
     "French onion soup topped with melted cheese (gratinated onion soup)."),
    ("translate", "Translate the Dutch sentence into English.", "Het regent al de hele week.",
     "It has been raining all week."),
    ("translate", "Translate the following message into English.", "Hola Marta, llegaré un poco tarde porque hay mucho tráfico. ¡Lo siento!",
     "Hi Marta, I'll arrive a little late because there's a lot of traffic. Sorry!"),
    ("translate", "Translate this German idiom literally and then give its meaning.", "Da steppt der Bär.",
     "Literally: 'The bear is tap-dancing there.' Meaning: that's where the party is; the place is lively and exciting."),
]

ADVICE = [
    ("advice", "Give three tips for staying focused while working from home.", "",
     "1. Keep a dedicated workspace that you use only for work, so your brain links it with concentration.\n2. Plan your day in blocks and take a short break every hour.\n3. Silence non-essential notifications and keep your phone in another room during deep-work sessions."),
    ("advice", "How can I improve my sleep?", "",
     "Go to bed and wake up at the same time every day, even at weekends. Keep your bedroom dark, quiet and cool. Avoid caffeine after early afternoon and large meals or alcohol close to bedtime. Put screens away for the last half hour before sleep, and get some daylight and exercise during the day. If problems persist for weeks, talk to a doctor."),
    ("advice", "What should I do before a job interview?", "",
     "Research the company: its products, customers and recent news. Re-read the job description and prepare examples from your experience that match each requirement, using the situation-task-action-result structure. Prepare two or three questions to ask the interviewer. Plan your route or test your video setup, and lay out your clothes the night before."),
    ("advice", "Give advice to someone who is nervous about public speaking.", "",
     "Practise your talk out loud several times, ideally in front of a friend or a camera. Know your opening lines by heart, since the first minute is usually the hardest. Focus on your message and the audience rather than on yourself, and remember that listeners want you to succeed. Slow down, breathe, and pause between key points; a short silence feels much longer to you than to the audience."),
    ("advice", "Suggest a simple way to start budgeting.", "",
     "Try the 50/30/20 approach: put roughly 50% of your take-home pay towards needs (rent, bills, groceries), 30% towards wants (eating out, hobbies) and 20% towards savings or paying off debt. Track your spending for one month first to see where your money actually goes, then adjust."),
    ("advice", "How do I keep basil alive on a windowsill?", "",
     "Give it at least six hours of sunlight a day, water it when the top of the soil feels dry (not on a fixed schedule), and make sure the pot drains well. Pinch off the top leaves regularly, just above a pair of leaves, so the plant grows bushy, and remove flower buds as soon as they appear."),
    ("advice", "What are some good habits for writing clean code?", "",
     "Use descriptive names for variables and functions. Keep functions small and focused on one task. Avoid repeating yourself; extract shared logic. Write tests for the behaviour you care about. Add comments that explain why something is done, not what the code already says. Format the code consistently, ideally with an automatic formatter."),
    ("advice", "Give three tips for learning to play the guitar.", "",
     "1. Practise a little every day, even fifteen minutes, rather than once a week for hours.\n2. Learn a few basic open chords (G, C, D, E minor) and practise switching between them slowly.\n3. Play songs you love early on, so practice stays fun."),
    ("advice", "How can I make my presentation slides more effective?", "",
     "Put one idea on each slide and use a short headline that states the point. Replace bullet-heavy slides with a single image, chart or a few words. Use large fonts and high contrast. Keep the detail in your speech or in a handout rather than on the slide."),
    ("advice", "What should I pack for a day hike?", "",
     "Bring plenty of water, snacks or lunch, a map or offline navigation app, a charged phone, a waterproof jacket, an extra warm layer, sun protection (hat, sunscreen, sunglasses), a small first-aid kit and a headtorch in case you finish later than planned. Wear comfortable, broken-in boots."),
    ("advice", "How can I reduce my screen time?", "",
     "Start by checking your phone's screen-time report to see which apps take the most time. Set daily limits for those apps, turn off non-essential notifications, and keep your phone out of the bedroom. Replace the habit with something specific, such as reading a book on the commute or taking a walk after dinner."),
    ("advice", "Give advice on how to study effectively for exams.", "",
     "Space your revision over several weeks instead of cramming. Test yourself with practice questions and flashcards rather than re-reading notes. Mix different topics in one session. Study in focused blocks of 25 to 50 minutes with short breaks, and get enough sleep, especially the night before the exam."),
    ("advice", "How do I politely decline an invitation?", "",
     "Thank the person, decline clearly, and keep the explanation short. For example: 'Thank you so much for inviting me to your party. Unfortunately I can't make it that evening, but I hope you have a wonderful time.' If you'd like to, suggest another time to meet."),
    ("advice", "Suggest ways to save money on groceries.", "",
     "Plan meals for the week and shop from a list. Compare prices per kilogram rather than per pack. Buy store brands, seasonal produce and larger packs of staples you use often. Cook in batches and freeze portions. Avoid shopping when you're hungry."),
    ("advice", "How can I be a better listener?", "",
     "Give the speaker your full attention: put your phone away and make eye contact. Let them finish without interrupting or planning your reply. Ask open questions and summarise what you heard to check you understood. Acknowledge their feelings before offering advice, and only offer advice if they want it."),
    ("advice", "What is a good routine for a beginner runner?", "",
     "Start with three sessions a week of run-walk intervals, for example one minute of easy running followed by two minutes of walking, repeated eight times. Each week, gradually increase the running time and reduce the walking. Always warm up with a brisk walk, run at a pace where you can still talk, and take a rest day between sessions."),
    ("advice", "How should I prepare for a power cut?", "",
     "Keep torches and spare batteries where you can find them in the dark, charge a power bank, and have some food that needs no cooking and bottled water. Know where your fuse box is. During the cut, keep the fridge and freezer closed, unplug sensitive electronics, and check on elderly neighbours."),
    ("advice", "How do I give constructive feedback to a colleague?", "",
     "Choose a private moment and be specific about the behaviour, not the person: describe what happened, its effect, and what you would like instead. For example: 'In yesterday's meeting the figures were missing from the report, so we couldn't decide on the budget. Could you send them before the next meeting?' Listen to their side and agree on next steps together."),
    ("advice", "Give tips for taking better photos with a phone.", "",
     "Clean the lens first. Use natural light and avoid the flash where possible. Turn on the grid and use the rule of thirds. Tap on your subject to set focus and exposure. Get closer instead of zooming digitally, and try unusual angles, such as shooting from low down."),
    ("advice", "How can I make my home office more ergonomic?", "",
     "Place the top of your monitor at or slightly below eye level, about an arm's length away. Adjust your chair so your feet are flat on the floor and your knees are roughly at hip height. Keep your keyboard and mouse close so your elbows stay near your body at about 90 degrees. Stand up and move every 30 to 60 minutes."),
]

DEFINE = [
    ("define", "Define the word 'ephemeral'.", "", "Ephemeral means lasting for a very short time. Example: 'The beauty of the cherry blossom is ephemeral.'"),
    ("define", "What does 'photosynthesis' mean?", "", "Photosynthesis is the process by which green plants, algae and some bacteria use light energy to turn carbon dioxide and water into glucose, releasing oxygen as a by-product."),
    ("define", "Give a definition of 'democracy'.", "", "Democracy is a system of government in which power belongs to the people, who exercise it directly or through elected representatives, usually in free and regular elections."),
    ("define", "Define 'metaphor' and give an example.", "", "A metaphor is a figure of speech that describes something by saying it is something else, without using 'like' or 'as'. Example: 'Time is a thief.'"),
    ("define", "What is an ecosystem?", "", "An ecosystem is a community of living organisms (plants, animals and microbes) together with their physical environment, such as soil, water and climate, interacting as a system."),
    ("define", "Define the term 'algorithm'.", "", "An algorithm is a finite sequence of well-defined steps for solving a problem or carrying out a task, such as a recipe for sorting a list of numbers."),
    ("define", "What does the abbreviation 'GDP' stand for, and what does it measure?", "", "GDP stands for gross domestic product. It measures the total value of all goods and services produced within a country over a period, usually a year or a quarter."),
    ("define", "Define 'empathy'.", "", "Empathy is the ability to understand and share the feelings of another person, imagining a situation from their point of view."),
    ("define", "What is a 'haiku'?", "", "A haiku is a short Japanese poetic form of three lines with five, seven and five syllables, traditionally about nature or a season."),
    ("define", "Define 'osmosis'.", "", "Osmosis is the movement of water molecules through a semi-permeable membrane from a region of lower solute concentration to a region of higher solute concentration."),
    ("define", "What is meant by 'biodiversity'?", "", "Biodiversity is the variety of life in a particular habitat or on Earth as a whole, including the diversity of species, of genes within species and of ecosystems."),
    ("define", "Define the word 'ubiquitous'.", "", "Ubiquitous means present, appearing or found everywhere. Example: 'Smartphones have become ubiquitous.'"),
    ("define", "What is a 'prime number'?", "", "A prime number is a whole number greater than 1 whose only divisors are 1 and itself, for example 2, 3, 5, 7 and 11."),
    ("define", "Define 'renewable energy'.", "", "Renewable energy comes from sources that are naturally replenished on a human timescale, such as sunlight, wind, rain, tides, waves and geothermal heat."),
    ("define", "What is a 'variable' in programming?", "", "A variable is a named storage location that holds a value, which the program can read and change while it runs, such as `count = 0`."),
    ("define", "Define 'irony'.", "", "Irony is a contrast between what is expected and what actually happens, or between what is said and what is meant. Example: a fire station burning down."),
    ("define", "What does 'carbon footprint' mean?", "", "A carbon footprint is the total amount of greenhouse gases, expressed as carbon dioxide equivalent, caused directly and indirectly by a person, organisation, event or product."),
    ("define", "Define the legal term 'plaintiff'.", "", "A plaintiff is the person or organisation who brings a case against another party in a civil court; the party being sued is the defendant."),
    ("define", "What is 'machine learning'?", "", "Machine learning is a branch of artificial intelligence in which computers learn patterns from data to make predictions or decisions, rather than being explicitly programmed with rules for each case."),
    ("define", "Define 'nostalgia'.", "", "Nostalgia is a sentimental longing or wistful affection for a period in the past, often with happy personal associations."),
]

MISC = [
    ("creative", "Write a haiku about autumn.", "", "Crisp leaves drift and fall,\nthe maple burns red and gold,\ncool wind hums goodbye."),
    ("creative", "Write a two-sentence horror story.", "", "I heard my mother calling me from the kitchen. As I headed downstairs, she pulled me into the cupboard and whispered, 'I heard it too.'"),
    ("creative", "Write a short thank-you note to a neighbour who watered your plants while you were away.", "",
     "Dear Mrs Patel,\n\nThank you so much for looking after my plants while I was away. They're thriving, and it was lovely to come home to such a green flat. Please let me know if I can ever return the favour.\n\nWarm wishes,\nSophie"),
    ("creative", "Write a limerick about a cat who loves boxes.", "",
     "A cat with a passion for crates\nWould squeeze into boxes and plates.\nThough the box was too small,\nShe'd fit after all,\nAnd nap there for hours, as fate dictates."),
    ("creative", "Describe a busy market in three vivid sentences.", "",
     "Stallholders shout their prices over the clatter of crates and the hiss of frying onions. The air smells of ripe peaches, fresh bread and spices piled in bright orange and red mounds. Shoppers weave between the stalls, baskets swinging, pausing to taste olives and haggle over the last bunch of tulips."),
    ("creative", "Write an opening line for a fantasy novel.", "", "The morning the river ran backwards, my grandmother packed her sword and told me not to wait up."),
    ("compare", "Compare cats and dogs as pets.", "",
     "Cats are generally more independent: they need less attention, can be left alone for longer and suit smaller homes. Dogs usually need daily walks, training and company, but they are often more openly affectionate and can be great companions for an active lifestyle. Both need regular veterinary care, and the best choice depends on your time, space and personality."),
    ("compare", "What are the main differences between a laptop and a desktop computer?", "",
     "A laptop is portable, with a built-in screen, keyboard and battery, which makes it convenient for travel but usually more expensive for the same performance and harder to upgrade. A desktop stays in one place, offers more power for the price, better cooling and easy upgrades, and can be used with a larger screen and full-size peripherals."),
    ("compare", "Compare renting and buying a home.", "",
     "Renting offers flexibility and lower upfront costs, and the landlord handles major repairs, but rent money does not build ownership and rent can rise. Buying requires a deposit and brings costs such as maintenance and interest, but monthly payments build equity, you have more control over the home, and the property may increase in value."),
    ("fact", "What is the capital of Australia?", "", "The capital of Australia is Canberra."),
    ("fact", "Who wrote 'Pride and Prejudice'?", "", "'Pride and Prejudice' was written by Jane Austen and published in 1813."),
    ("fact", "How many bones are in the adult human body?", "", "An adult human body typically has 206 bones."),
    ("fact", "What is the chemical symbol for gold?", "", "The chemical symbol for gold is Au, from the Latin word aurum."),
    ("fact", "Which planet is known as the Red Planet?", "", "Mars is known as the Red Planet because of the iron oxide (rust) on its surface."),
    ("fact", "What is the longest river in South America?", "", "The Amazon is the longest river in South America, at roughly 6,400 km."),
    ("analogy", "Complete the analogy: bird is to nest as bee is to ...", "", "Hive. A bird lives in a nest, and a bee lives in a hive."),
    ("analogy", "Generate an analogy to explain how electricity flows through a circuit.", "",
     "Electricity in a circuit is like water flowing through pipes. The battery is a pump that creates pressure (voltage), the current is the amount of water flowing, and a resistor is a narrow section of pipe that restricts the flow."),
]

URL_CITED = [
    ("fact", "Where can I read the official Python documentation?", "",
     "The official Python documentation is published at https://docs.python.org/3/. It includes a tutorial, the language reference and the documentation of the standard library."),
    ("advice", "How can I check whether a website address is safe before clicking it?", "",
     "Hover over the link to see the full address, check that the domain is spelled correctly, and look for https. You can also paste the address into a checker such as https://transparencyreport.google.com/safe-browsing/search to see whether it has been reported as unsafe."),
    ("explain", "What licence does Wikipedia use for its text?", "",
     "Wikipedia's text is available under the Creative Commons Attribution-ShareAlike licence; the terms are described at https://creativecommons.org/licenses/by-sa/4.0/. You may reuse and adapt it as long as you credit the source and share your changes under the same licence."),
]

# The generator interleaves these sections round-robin, so the file reads like a
# mixed dataset rather than a sorted one.
SECTIONS = [
    REWRITE, CLASSIFY_TEMPLATED, CLASSIFY, SUMMARISE, EXPLAIN, BRAINSTORM, MATH, ARITHMETIC_CORRECT,
    CODE, EXTRACT, TRANSLATE, ADVICE, DEFINE, MISC, URL_CITED,
]
GOOD = [record for section in SECTIONS for record in section]

# Groups the manifest reports by name: each is a near miss for some rule and must
# stay clean.
GROUPS = {
    "templated_distinct": CLASSIFY_TEMPLATED,
    "correct_arithmetic": ARITHMETIC_CORRECT,
    "url_cited": URL_CITED,
}

# Rows of the small CSV batch (a second loader in the same sample).
CSV_GOOD = [
    ("fact", "What is the boiling point of water in Fahrenheit at sea level?", "", "Water boils at 212 °F at sea level."),
    ("define", "Define 'photosphere'.", "", "The photosphere is the visible surface layer of a star, such as the Sun, from which most of its light is emitted."),
    ("rewrite", "Rewrite the sentence in plain English.", "The aforementioned individual shall remit payment forthwith.",
     "That person must pay immediately."),
    ("code", "Write a Python one-liner that reverses a list called items.", "", "reversed_items = items[::-1]"),
    ("code", "Write a Python function that returns the sum of the digits of a non-negative integer.", "",
     '''def digit_sum(n: int) -> int:
    total = 0
    while n > 0:
        total += n % 10
        n //= 10
    return total'''),
    ("math", "A garden is 12 m long and 8 m wide. How much fencing is needed to go around it?", "",
     "The perimeter is 2 × (12 + 8) = 40 m, so 40 m of fencing is needed."),
    ("classify", "Classify the word as a noun, verb or adjective.", "swiftly", "It is none of these: 'swiftly' is an adverb."),
    ("brainstorm", "List three uses for a paper clip other than holding paper.", "",
     "1. Resetting a device through a tiny reset hole.\n2. Opening the SIM tray of a phone.\n3. Marking the end of a roll of sticky tape."),
    ("translate", "Translate the following sentence into English.", "La biblioteca cierra a las ocho.", "The library closes at eight."),
    ("advice", "How can I stop procrastinating on a big project?", "",
     "Break the project into small, concrete tasks and start with one that takes less than ten minutes. Set a timer for 25 minutes of focused work, remove distractions, and reward yourself after each session."),
    ("explain", "Explain what a leap year is.", "",
     "A leap year has 366 days instead of 365, with an extra day on 29 February. It keeps the calendar aligned with Earth's orbit, which takes about 365.24 days. Years divisible by 4 are leap years, except century years, which must also be divisible by 400; so 2000 was a leap year but 1900 was not."),
    ("summarise", "Summarise the sentence in five words or fewer.", "The annual village fete has been postponed because of the forecast of heavy thunderstorms.",
     "Fete postponed due to storms."),
    ("extract", "Extract the time and place of the event.", "Join us for the book club at 7 p.m. on Thursday in the back room of the Red Lion.",
     "Time: 7 p.m. on Thursday\nPlace: the back room of the Red Lion"),
    ("fact", "Who painted the ceiling of the Sistine Chapel?", "", "Michelangelo painted the Sistine Chapel ceiling between 1508 and 1512."),
    ("creative", "Write a one-sentence slogan for a public library.", "", "Every story starts here, and every card is free."),
]

# The later batch: new work for `make refresh`, never seen by the first run.
BATCH2_GOOD = [
    ("rewrite", "Rewrite the sentence to sound more confident.", "I think maybe I could possibly help with the project.",
     "I can help with the project."),
    ("rewrite", "Rewrite the following sentence in the future tense.", "The team plays in the final.",
     "The team will play in the final."),
    ("rewrite", "Simplify the sentence for a general audience.", "The patient presented with acute rhinorrhoea and pyrexia.",
     "The patient had a suddenly runny nose and a fever."),
    ("rewrite", "Rewrite the sentence using an exclamation.", "The view from the top of the mountain was beautiful.",
     "What a beautiful view from the top of the mountain!"),
    ("classify", "Classify the following as a solid, liquid or gas at room temperature.", "oxygen, mercury, iron, water, helium",
     "Solid: iron\nLiquid: mercury, water\nGas: oxygen, helium"),
    ("classify", "Label the question as open or closed.", "Did you enjoy the concert?",
     "Closed. It can be answered with yes or no."),
    ("classify", SENTIMENT, "Delivery took a week, which is about what the website said.", "Neutral"),
    ("classify", SENTIMENT, "The staff went out of their way to make my grandmother comfortable. Wonderful place.", "Positive"),
    ("summarise", "Summarise the paragraph in one sentence.", "The new library opened on Saturday after two years of construction. It has a children's wing, a café, a recording studio and three floors of study space. Over two thousand people visited on the first day.",
     "After two years of work, the new library, with a children's wing, café, studio and study space, opened to over two thousand visitors on its first day."),
    ("summarise", "Give a one-sentence summary of the fable of the tortoise and the hare.", "",
     "An overconfident hare naps during a race against a slow but steady tortoise, who keeps going and wins."),
    ("explain", "Explain why metals conduct electricity.", "",
     "In a metal, the outer electrons of the atoms are not tied to any single atom; they form a 'sea' of free electrons that can move through the whole structure. When a voltage is applied, these electrons drift towards the positive side, carrying an electric current."),
    ("explain", "Explain what a budget deficit is.", "",
     "A budget deficit happens when a government spends more money in a year than it collects in taxes and other revenue. It covers the gap by borrowing, which adds to the national debt."),
    ("explain", "Explain how tides are formed.", "",
     "Tides are caused mainly by the Moon's gravity pulling on Earth's oceans. The water bulges towards the Moon on the near side and away from it on the far side, so most coasts get two high tides and two low tides roughly every 25 hours as Earth rotates. The Sun's gravity also contributes: when Sun and Moon line up, tides are higher (spring tides)."),
    ("explain", "Explain the difference between a simile and a metaphor.", "",
     "Both compare two things. A simile makes the comparison explicit with 'like' or 'as' ('Her smile was like sunshine'), while a metaphor states that one thing is the other ('Her smile was sunshine')."),
    ("explain", "Why do we need to sleep?", "",
     "Sleep lets the body and brain recover. During sleep the brain consolidates memories and clears waste products, the body repairs tissues and releases growth hormone, and the immune system is strengthened. Without enough sleep, attention, mood and health suffer."),
    ("brainstorm", "Suggest five names for a cycling club.", "",
     "1. Spoke Folk\n2. The Chain Gang\n3. Hill Seekers\n4. Pedal Pushers\n5. Tailwind Riders"),
    ("brainstorm", "List four ways to make a small bedroom feel bigger.", "",
     "1. Use light colours on the walls and ceiling.\n2. Hang a large mirror opposite the window.\n3. Choose furniture with legs and hidden storage.\n4. Keep surfaces clear and store items vertically on shelves."),
    ("brainstorm", "Suggest three hobbies that cost little or nothing.", "",
     "1. Running or walking in local parks.\n2. Borrowing books and audiobooks from the library.\n3. Drawing or sketching with a pencil and paper."),
    ("math", "A bus leaves every 15 minutes from 7:00. What time is the sixth bus?", "",
     "The buses leave at 7:00, 7:15, 7:30, 7:45, 8:00 and 8:15, so the sixth bus leaves at 8:15."),
    ("math", "What is 30% of 250?", "", "30% of 250 = 0.3 × 250 = 75."),
    ("math", "A phone costs $360 and is paid in 12 equal monthly instalments. How much is each instalment?", "",
     "$360 ÷ 12 = $30 per month."),
    ("math", "Solve for y: 5y - 4 = 21.", "", "Add 4 to both sides: 5y = 25. Divide by 5: y = 5."),
    ("math", "Calculate 48 × 25.", "", "48 × 25 = 1200"),
    ("code", "Write a Python function that returns the longest word in a sentence.", "",
     '''def longest_word(sentence: str) -> str:
    words = sentence.split()
    if not words:
        return ""
    return max(words, key=len)'''),
    ("code", "Write a SQL query that finds the average price of products in each category.", "Table products(id, name, category, price)",
     '''SELECT category, AVG(price) AS average_price
FROM products
GROUP BY category
ORDER BY category;'''),
    ("code", "Write a JavaScript function that returns a new array with only the even numbers.", "",
     '''function evens(numbers) {
  return numbers.filter((n) => n % 2 === 0);
}

console.log(evens([1, 2, 3, 4, 5, 6])); // [2, 4, 6]'''),
    ("code", "Write a Python function that counts the vowels in a string.", "",
     '''def count_vowels(text: str) -> int:
    return sum(1 for ch in text.lower() if ch in "aeiou")'''),
    ("extract", "Extract the phone number from the message.", "Hi, it's Ruth from the dentist's. Please call us back on 0161 496 0123 to confirm your appointment.",
     "0161 496 0123"),
    ("extract", "List the countries mentioned in the text.", "The summit brought together leaders from Kenya, Chile, Japan and Canada.",
     "Kenya, Chile, Japan, Canada"),
    ("translate", "Translate the following sentence into English.", "Il fait très froid ce matin.", "It is very cold this morning."),
    ("translate", "Translate the following sentence into English.", "Können Sie mir bitte helfen?", "Could you help me, please?"),
    ("advice", "How can I keep my bike from being stolen?", "",
     "Use a sturdy D-lock through the frame and rear wheel and a cable for the front wheel, lock it to an immovable stand in a busy, well-lit place, register the frame number, and never leave it unlocked, even for a minute."),
    ("advice", "Give three tips for writing a good cover letter.", "",
     "1. Address it to a named person where possible.\n2. Show how your experience matches two or three key requirements of the job, with examples.\n3. Keep it under one page and end by saying you look forward to discussing the role."),
    ("advice", "How do I remove a coffee stain from a cotton shirt?", "",
     "Rinse the stain from the back with cold water as soon as possible, then rub in a little liquid laundry detergent and leave it for five minutes. Wash the shirt on the warmest setting the label allows, and check the stain is gone before drying, since heat can set it."),
    ("define", "Define 'photosynthesis' in one sentence for a child.", "",
     "Photosynthesis is how plants use sunlight, air and water to make their own food."),
    ("define", "What is a 'peninsula'?", "", "A peninsula is a piece of land surrounded by water on three sides but connected to the mainland on the fourth, such as Italy."),
    ("define", "Define 'inflation rate'.", "", "The inflation rate is the percentage increase in the general price level over a period, usually a year."),
    ("fact", "What is the largest ocean on Earth?", "", "The Pacific Ocean is the largest and deepest ocean on Earth."),
    ("creative", "Write a haiku about the sea.", "", "Grey waves fold and break,\nsalt wind carries gull voices,\nthe tide keeps its time."),
    ("compare", "Compare trains and planes for a 500 km journey.", "",
     "For 500 km a train is often about as fast as a plane door to door, because it runs between city centres and needs no security queues. Trains also produce far less carbon dioxide and let you work during the trip. Planes can be cheaper on some routes and win over longer distances or where no fast rail line exists."),
]
